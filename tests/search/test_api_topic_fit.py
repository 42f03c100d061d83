"""Topic jobs over HTTP through the topics stage (topics.fit, topics.assign): fit a run on
indexed toy shapes, then new images get a topic as they are indexed."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from picsift.settings import Settings
from picsift.store.edge import EdgeStore
from search.app import create_app
from search.uploads import Limits
from tests.indexer.conftest import write_4cat_zip
from tests.search.test_api_jobs import wait

pytest.importorskip("topics.fit", reason="the topics stage (issue #5) has no fit yet")
pytest.importorskip("topics.assign", reason="the topics stage (issue #5) has no assign yet")


def index(client, path: str) -> dict:
    return wait(client, client.post("/api/jobs/index", json={"paths": [path]}).json()["url"])


@pytest.mark.slow
def test_fit_then_new_images_are_assigned(tmp_path, toy_clip):
    write_4cat_zip(tmp_path / "first.zip", 96, seed=51)
    write_4cat_zip(tmp_path / "later.zip", 12, seed=52)
    store = EdgeStore(tmp_path / "store")
    settings = Settings(store=str(store.directory), caption_model="toy")
    app = create_app(
        settings, store=store, encoder=toy_clip, limits=Limits(index_roots=(tmp_path,))
    )
    try:
        with TestClient(app) as client:
            job = wait(
                client, client.post("/api/jobs/index", json={"paths": ["first.zip"]}).json()["url"]
            )
            assert job["state"] == "done" and "topics" not in job["result"]  # no run yet
            fit = client.post("/api/jobs/topics", json={"action": "fit", "min_topic_size": 5})
            assert fit.status_code == 202 and fit.json()["kind"] == "topics-fit"
            job = wait(client, fit.json()["url"])
            assert job["state"] == "done", job
            run = job["result"]["run"]["run"]
            body = client.get("/api/topics").json()
            assert body["run"]["run"] == run and body["run"]["params"]["min_topic_size"] == 5
            topics = [t for t in body["topics"] if t["topic"] != -1]
            assert topics and sum(t["count"] for t in body["topics"]) == 96
            first = topics[0]["topic"]
            hits = client.get("/api/search", params={"q": "shape", "topic": first, "limit": 1000})
            assert len(hits.json()["hits"]) == topics[0]["count"]
            assert client.get("/api/topics/map").json()["total"] == 96

            job = wait(
                client, client.post("/api/jobs/index", json={"paths": ["later.zip"]}).json()["url"]
            )
            assert job["state"] == "done", job
            report = job["result"]["topics"]
            assert report["assigned"] + report["unassigned"] == 12
            status = client.get("/api/status").json()
            assert status["images"] == 108 and status["topic_run"] == run
    finally:
        store.close()
