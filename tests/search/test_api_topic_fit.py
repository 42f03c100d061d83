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
            # Rebuilding the search index after the writes is a stage of its own.
            assert job["stages"]["search index"] == {"stage": "search index", "done": 1, "total": 1}
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


@pytest.mark.slow
def test_the_command_line_joins_new_images_to_topics_as_the_job_does(tmp_path):
    """`picsift index` after a fit: the same `topics` report section as the index job's, and
    the new images carry a topic of the run."""
    import json

    from typer.testing import CliRunner

    from cli.main import app

    write_4cat_zip(tmp_path / "first.zip", 96, seed=51)
    write_4cat_zip(tmp_path / "later.zip", 12, seed=52)
    runner = CliRunner()
    env = {"PICSIFT_MODEL": "toy", "PICSIFT_CAPTION_MODEL": "none"}

    def cli(*argv):
        result = runner.invoke(app, ["--store", str(tmp_path / "store"), *argv], env=env)
        assert result.exit_code == 0, result.output
        return result.output

    assert "topics:" not in cli("index", str(tmp_path / "first.zip"))  # no run yet
    cli("topics", "fit", "--no-captions", "--min-topic-size", "5")
    run = json.loads(cli("status", "--json"))["topic_run"]
    out = cli("index", str(tmp_path / "later.zip"), "--report", str(tmp_path / "r.json"))
    report = json.loads((tmp_path / "r.json").read_text())["topics"]
    assert report["run"] == run and report["assigned"] + report["unassigned"] == 12
    assert f"topics: {report['assigned']:,} new images joined topics of run {run}" in out
    with EdgeStore(tmp_path / "store") as store:
        later = [r.payload for r in store.images.scroll() if r.payload.get("topic_by") == "assign"]
    assert len(later) == 12 and {p["topic_run"] for p in later} == {run}
