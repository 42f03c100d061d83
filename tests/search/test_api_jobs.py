"""Write jobs over HTTP on a store that starts empty: index an uploaded zip and a server path,
caption, one job at a time, progress and the result report."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from picsift.settings import Settings
from picsift.store.edge import EdgeStore
from search.app import create_app
from search.uploads import Limits
from tests.indexer.conftest import write_4cat_zip, write_tiktok_csv


def wait(client, url: str, timeout: float = 300.0) -> dict:
    """Poll a job until it is no longer queued or running."""
    deadline = time.monotonic() + timeout
    while (job := client.get(url).json())["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    return job


@pytest.fixture(scope="module")
def fresh(tmp_path_factory, toy_clip):
    """An app over an empty store; index jobs may read `root`."""
    root = tmp_path_factory.mktemp("jobs")
    store = EdgeStore(root / "store")
    settings = Settings(store=str(store.directory), caption_model="toy")
    app = create_app(settings, store=store, encoder=toy_clip, limits=Limits(index_roots=(root,)))
    with TestClient(app) as client:
        client.root = root
        yield client
    store.close()


def test_searching_an_empty_store_says_what_to_do(fresh):
    response = fresh.get("/api/search", params={"q": "red"})
    assert response.status_code == 409 and "index some images first" in response.json()["message"]
    assert fresh.get("/api/status").json()["images"] == 0


def test_index_an_uploaded_zip_and_poll_it(fresh):
    root = fresh.root
    write_4cat_zip(root / "upload.zip", 12, seed=21)
    with (root / "upload.zip").open("rb") as fh:
        response = fresh.post(
            "/api/jobs/index", files={"file": ("my scrape.zip", fh, "application/zip")}
        )
    assert response.status_code == 202, response.text
    queued = response.json()
    assert queued["state"] in ("queued", "running") and queued["kind"] == "index"
    assert queued["params"]["sources"] == ["my_scrape.zip"]
    job = wait(fresh, queued["url"])
    assert job["state"] == "done", job
    report = job["result"]
    assert report["found"] == 12 and report["new"] == 12 and report["failed"] == []
    assert report["posts_linked"] == 0 and report["captions"]["written"] == 12
    assert job["stages"]["embed"] == {"stage": "embed", "done": 12, "total": 12}
    assert job["started_at"] and job["finished_at"] and job["error"] is None
    hits = fresh.get("/api/search", params={"q": "red circle", "limit": 3}).json()["hits"]
    assert len(hits) == 3 and all(h["caption"] for h in hits)
    original = fresh.get(f"/api/images/{hits[0]['id']}/file")
    assert original.status_code == 200  # served from the kept upload
    assert fresh.get("/api/jobs").json()["jobs"][0]["id"] == queued["id"]


def test_index_a_server_path_with_a_table(fresh):
    root = fresh.root
    images = write_4cat_zip(root / "scrape.zip", 6, seed=22)
    write_tiktok_csv(root / "scrape.csv", 7, images)
    body = {"paths": ["scrape.zip", str(root / "scrape.csv")], "captions": False}
    job = wait(fresh, fresh.post("/api/jobs/index", json=body).json()["url"])
    assert job["state"] == "done", job
    assert job["result"]["new"] == 6 and job["result"]["posts_linked"] == 7
    assert "captions" not in job["result"]


def test_caption_job_fills_in_missing_captions(fresh):
    job = wait(fresh, fresh.post("/api/jobs/caption").json()["url"])
    assert job["state"] == "done" and job["result"]["written"] == 6
    assert fresh.get("/api/status").json()["captioned"] == 18


def test_a_failing_job_reports_why(fresh):
    bad = fresh.root / "notes.txt"
    bad.write_text("neither images nor a post table")
    job = wait(fresh, fresh.post("/api/jobs/index", json={"paths": [str(bad)]}).json()["url"])
    assert job["state"] == "failed" and "notes.txt: neither media" in job["error"]
    assert "Traceback" not in job["error"]


def test_jobs_run_one_at_a_time(fresh, monkeypatch):
    """Jobs wait for the write lock in order; a quick write meanwhile is told it is busy."""
    from search import deps

    state = fresh.app.state.picsift
    monkeypatch.setattr(deps, "WRITE_WAIT_S", 0.1)
    state.write_lock.acquire()
    try:
        first = fresh.post("/api/jobs/caption").json()
        second = fresh.post("/api/jobs/topics", json={"action": "assign"}).json()
        time.sleep(0.2)
        assert [fresh.get(j["url"]).json()["state"] for j in (first, second)] == ["queued"] * 2
        with pytest.raises(deps.BusyError, match="try again when it is done"):
            deps.WriteSlot(state).__enter__()
    finally:
        state.write_lock.release()
    done = [wait(fresh, j["url"]) for j in (first, second)]
    assert [j["state"] for j in done] == ["done", "done"]
    assert done[0]["finished_at"] <= done[1]["started_at"]


def test_unknown_job_is_404(fresh):
    response = fresh.get("/api/jobs/" + "0" * 32)
    assert response.status_code == 404 and response.json()["parameter"] == "job_id"


def test_searches_run_while_a_job_writes(fresh):
    """Reads keep answering during an index job (same store object, other threads)."""
    root = fresh.root
    write_4cat_zip(root / "more.zip", 24, seed=23)
    url = fresh.post("/api/jobs/index", json={"paths": ["more.zip"], "captions": False}).json()
    errors: list[int] = []

    def read() -> None:
        for _ in range(20):
            response = fresh.get("/api/search", params={"q": "blue square", "limit": 5})
            if response.status_code != 200:
                errors.append(response.status_code)

    threads = [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wait(fresh, url["url"])["state"] == "done" and errors == []


@pytest.mark.parametrize("dataset", ["../x", "a/b", ".."])
def test_index_refuses_a_dataset_name_that_search_refuses(fresh, dataset):
    response = fresh.post("/api/jobs/index", json={"paths": ["more.zip"], "dataset": dataset})
    assert response.status_code == 422 and response.json()["parameter"] == "dataset"
    upload = fresh.post(
        "/api/jobs/index",
        files={"file": ("x.zip", b"PK", "application/zip")},
        data={"dataset": dataset},
    )
    assert upload.status_code == 422 and upload.json()["parameter"] == "dataset"


def test_index_job_captions_every_image_left_without_one(fresh):
    # The same behaviour as `picsift index` (tests/indexer/test_index_cli.py): a job that adds
    # images captions every image still without one, those of an earlier job without captions
    # included.
    root = fresh.root
    write_4cat_zip(root / "plain.zip", 3, seed=41, shared=False)
    write_4cat_zip(root / "more.zip", 2, seed=42, shared=False)
    body = {"paths": ["plain.zip"], "captions": False}
    assert wait(fresh, fresh.post("/api/jobs/index", json=body).json()["url"])["state"] == "done"
    status = fresh.get("/api/status").json()
    assert status["images"] - status["captioned"] >= 3
    job = wait(fresh, fresh.post("/api/jobs/index", json={"paths": ["more.zip"]}).json()["url"])
    assert job["state"] == "done", job
    assert job["result"]["captions"]["written"] == status["images"] - status["captioned"] + 2
    after = fresh.get("/api/status").json()
    assert after["captioned"] == after["images"] == status["images"] + 2
