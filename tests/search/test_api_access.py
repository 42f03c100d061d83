"""Access: the API key on writes (no write, and no upload left behind, without it) and closed
reads (PICSIFT_PUBLIC_READ=false) that need the key everywhere but /healthz and refuse to start
without one. Every refusal is a 401 with a JSON error naming `authorization`."""

from __future__ import annotations

import io
import zipfile

import pytest

from picsift.errors import ConfigError
from search.app import create_app
from tests.search.access_helpers import ID, app_client, assert_error, png_bytes

KEY = "s3cret-key"


@pytest.fixture(scope="module")
def keyed(corpus):
    with app_client(corpus, api_key=KEY) as client:
        yield client


@pytest.fixture(scope="module")
def closed(corpus):
    with app_client(corpus, api_key=KEY, public_read=False) as client:
        yield client


WRITES = [
    ("post", "/api/jobs/caption", {}),
    ("post", "/api/jobs/topics", {"json": {"action": "assign"}}),
    ("post", "/api/jobs/index", {"json": {"paths": ["."]}}),
    ("patch", "/api/topics/1", {"json": {"label": "renamed"}}),
    ("post", "/api/topics/merge", {"json": {"topics": [1, 2]}}),
]


@pytest.mark.parametrize(("method", "path", "kw"), WRITES)
def test_writes_need_the_key(keyed, method, path, kw):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}):
        response = getattr(keyed, method)(path, headers=headers, **kw)
        assert_error(response, 401, "authorization")
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_write_with_the_key_runs_and_reads_stay_open(keyed):
    response = keyed.post("/api/jobs/caption", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 202 and response.json()["kind"] == "caption"
    assert keyed.get("/api/search", params={"q": "red"}).status_code == 200


def test_an_upload_without_the_key_leaves_nothing(keyed, corpus):
    uploads = corpus.store.directory / "uploads"
    before = set(uploads.rglob("*")) if uploads.exists() else set()
    zip_buffer = io.BytesIO()
    with zipfile.ZipFile(zip_buffer, "w") as archive:
        archive.writestr("a.png", png_bytes())
    files = {"file": ("x.zip", zip_buffer.getvalue(), "application/zip")}
    assert_error(keyed.post("/api/jobs/index", files=files), 401)
    after = set(uploads.rglob("*")) if uploads.exists() else set()
    assert after == before


def test_closed_reads_need_the_key(closed):
    for path in (
        "/api/search?q=red",
        "/api/topics",
        f"/api/images/{ID}/thumb",
        "/api/status",
        "/api/export",
        "/api/topics/map",
        "/api/jobs",
    ):
        assert_error(closed.get(path), 401, "authorization")
    authorised = closed.get("/api/search?q=red", headers={"Authorization": f"Bearer {KEY}"})
    assert authorised.status_code == 200
    assert closed.get("/healthz").json() == {"status": "ok"}


def test_closed_reads_without_a_key_are_refused_at_start(corpus):
    with pytest.raises(ConfigError, match="PICSIFT_PUBLIC_READ=false needs PICSIFT_API_KEY"):
        create_app(corpus.settings(public_read=False), store=corpus.store)
