"""Job requests a fuzzer sends: parameters a topic fit would choke on are refused at the door
(422 naming the field) instead of failing the job with a traceback in the log, and a flood of
jobs meets a bounded queue (429 with Retry-After; an identical waiting job answers 409)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from picsift.settings import Settings
from picsift.store.edge import EdgeStore
from search.app import create_app
from search.uploads import Limits
from tests.search.access_helpers import assert_error, png_bytes

WAITING = 2


@pytest.fixture
def server(tmp_path, toy_clip) -> Iterator[TestClient]:
    """An app over an empty store that queues at most WAITING jobs."""
    store = EdgeStore(tmp_path / "store")
    settings = Settings(store=str(store.directory), caption_model="none", max_queued_jobs=WAITING)
    app = create_app(
        settings, store=store, encoder=toy_clip, limits=Limits(index_roots=(tmp_path,))
    )
    with TestClient(app) as client:
        yield client
    store.close()


@pytest.fixture
def held(server) -> Iterator[TestClient]:
    """The server with its store's write lock held, so that jobs wait."""
    lock = server.app.state.picsift.write_lock
    lock.acquire()
    try:
        yield server
    finally:
        lock.release()


def fit(client: TestClient, **params):
    return client.post("/api/jobs/topics", json={"action": "fit", **params})


@pytest.mark.parametrize("seed", [-1, 2**32, 10**30])
def test_a_seed_out_of_range_is_refused_naming_seed(server, seed):
    body = assert_error(fit(server, seed=seed), 422, "seed")
    assert "2**32 - 1" in body["message"]
    assert server.get("/api/jobs").json()["jobs"] == []


@pytest.mark.parametrize("seed", [0, 2**32 - 1])
def test_the_ends_of_the_seed_range_are_taken(held, seed):
    assert fit(held, seed=seed).status_code == 202


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"nr_topics": 10**12}, "nr_topics"),
        ({"min_topic_size": 500, "sample": 200}, "sample"),
    ],
)
def test_other_fit_parameters_that_cannot_work_are_refused(server, params, parameter):
    assert_error(fit(server, **params), 422, parameter)


@pytest.mark.parametrize("path", ["a" * 300, "a/" * 3000, "~nobody-here-" + "b" * 40 + "/x"])
def test_an_index_path_the_file_system_cannot_take_is_a_422(server, path):
    assert_error(server.post("/api/jobs/index", json={"paths": [path]}), 422, "paths")


def test_a_full_queue_answers_429_with_retry_after(held):
    for seed in range(WAITING):
        assert fit(held, seed=seed).status_code == 202
    response = fit(held, seed=99)
    body = assert_error(response, 429)
    assert int(response.headers["Retry-After"]) > 0
    assert f"{WAITING} jobs are waiting" in body["message"]
    assert_error(held.post("/api/jobs/caption"), 429)
    assert len(held.get("/api/jobs").json()["jobs"]) == WAITING


def test_an_identical_waiting_job_answers_409_with_its_id(held):
    first = fit(held, seed=7).json()
    body = assert_error(fit(held, seed=7), 409)
    assert first["id"] in body["message"]
    assert fit(held, seed=8).status_code == 202


def upload(client: TestClient):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.png", png_bytes())
    files = {"file": ("x.zip", buffer.getvalue(), "application/zip")}
    return client.post("/api/jobs/index", files=files)


def test_a_refused_upload_is_not_kept(held, monkeypatch):
    """Refused before it is read; and when the queue fills while it is sent, removed."""
    uploads = held.app.state.picsift.settings.data_dir / "uploads"
    for seed in range(WAITING):
        fit(held, seed=seed)
    assert_error(upload(held), 429)
    assert not uploads.exists() or not any(uploads.iterdir())
    monkeypatch.setattr(held.app.state.picsift.jobs, "check_room", lambda: None)
    assert_error(upload(held), 429)
    assert not any(uploads.iterdir())
