"""Schemathesis against the API (bounded: 20 examples an operation, derandomized): no answer
is a 5xx, and every answer is one the OpenAPI schema documents, with the documented content
type, body and headers. Runs on a store of its own, writes open, so jobs, renames and merges
are fuzzed too without touching the other tests' corpus."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from picsift.settings import Settings
from picsift.store.edge import EdgeStore
from search.app import create_app
from search.uploads import Limits
from tests.indexer.conftest import write_4cat_zip, write_tiktok_csv
from tests.search.conftest import index_sources

pytestmark = pytest.mark.slow
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    unsupported_method,
]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory, toy_clip):
    root = tmp_path_factory.mktemp("fuzz")
    images = write_4cat_zip(root / "a.zip", 24, seed=9)
    write_tiktok_csv(root / "a.csv", 25, images)
    store = EdgeStore(root / "store")
    index_sources(store, toy_clip, store.directory, [root / "a.zip", root / "a.csv"])
    settings_ = Settings(store=str(store.directory), caption_model="none", max_queued_jobs=2)
    app = create_app(settings_, store=store, encoder=toy_clip, limits=Limits(index_roots=(root,)))
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    store.close()


def test_every_answer_is_one_the_schema_documents(api_schema):
    """Each operation in turn (schemathesis' pytest plugin does not load with this pytest)."""
    failures = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=20,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            case.call_and_validate(checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # every operation's, not the first
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
