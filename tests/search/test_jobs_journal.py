"""Job records outlive a restart: finished jobs answer with their result, unfinished ones as
cancelled (also after a kill), a torn or foreign journal line is skipped, and the journal stays
short."""

from __future__ import annotations

import json
import logging
import threading
import time

import pytest
from fastapi.testclient import TestClient

from picsift.errors import PicsiftError
from picsift.settings import Settings
from picsift.store.edge import EdgeStore
from search import jobs
from search.app import create_app
from search.jobs import INTERRUPTED, JOURNAL, JobQueue
from search.writelock import WriteLock
from tests.search.test_api_jobs import wait


def finish(queue: JobQueue, job_id: str, timeout: float = 30.0) -> jobs.Job:
    deadline = time.monotonic() + timeout
    while (job := queue.get(job_id)).state in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.01)
    return job


def test_finished_jobs_are_restored_with_their_results(tmp_path):
    path = tmp_path / JOURNAL
    first = JobQueue(WriteLock(), journal=path)
    done = first.submit("index", {"sources": ["a.zip"]}, lambda progress: {"new": 3})

    def fails(progress):
        progress("embed", 1, 2)
        raise PicsiftError("a.zip: not a zip")

    failed = first.submit("index", {"sources": ["b.zip"]}, fails)
    finish(first, failed.id)
    first.close()

    again = JobQueue(WriteLock(), journal=path)
    restored = again.get(done.id).view()
    assert restored == done.view() and restored["result"] == {"new": 3}
    assert restored["state"] == "done" and restored["finished_at"]
    broken = again.get(failed.id).view()
    assert broken["state"] == "failed" and broken["error"] == "a.zip: not a zip"
    assert broken["stages"] == {"embed": {"stage": "embed", "done": 1, "total": 2}}
    assert [j.id for j in again.list()] == [failed.id, done.id]
    again.close()


def test_jobs_cut_off_by_a_kill_come_back_cancelled(tmp_path):
    """The first queue is never closed (as after kill -9): its running and queued jobs were
    journaled as such, and the next server start shows them as cancelled."""
    path = tmp_path / JOURNAL
    release = threading.Event()
    killed = JobQueue(WriteLock(), journal=path)
    running = killed.submit("caption", {}, lambda progress: release.wait(30) and {})
    queued = killed.submit("topics", {"action": "fit"}, lambda progress: {})
    deadline = time.monotonic() + 30
    while killed.get(running.id).state != "running":
        assert time.monotonic() < deadline
        time.sleep(0.01)

    restarted = JobQueue(WriteLock(), journal=path)
    for job in (running, queued):
        view = restarted.get(job.id).view()
        assert view["state"] == "cancelled" and view["error"] == INTERRUPTED
    assert restarted.counts() == {"queued": 0, "running": 0}
    release.set()
    killed.close(5)
    restarted.close()


def test_unreadable_lines_are_skipped_and_the_rest_kept(tmp_path, caplog):
    path = tmp_path / JOURNAL
    queue = JobQueue(WriteLock(), journal=path)
    good = finish(queue, queue.submit("caption", {}, lambda progress: {"written": 1}).id)
    queue.close()
    written = len(path.read_text().splitlines())
    with path.open("a", encoding="utf-8") as fh:
        fh.write("[1, 2]\n")
        fh.write(json.dumps({**good.view(), "id": "x", "state": "exploded"}) + "\n")
        fh.write('{"id": "torn", "kind": "ind')
    with caplog.at_level(logging.WARNING, logger="picsift.jobs"):
        again = JobQueue(WriteLock(), journal=path)
    assert [j.id for j in again.list()] == [good.id]
    assert [r.getMessage().rsplit(" line ", 1)[1] for r in caplog.records] == [
        f"{written + n} is not a job; skipped" for n in (1, 2, 3)
    ]
    again.close()
    assert len(path.read_text().splitlines()) == 1


def test_the_journal_keeps_only_the_last_jobs(tmp_path, monkeypatch):
    monkeypatch.setattr(jobs, "KEEP", 3)
    path = tmp_path / JOURNAL
    # Room for all ten to wait: on a busy machine the worker may not have started one yet
    # (with the default of 8 the ninth submit was refused, in CI).
    queue = JobQueue(WriteLock(), journal=path, max_queued=10)
    ids = [queue.submit("caption", {}, lambda progress, i=i: {"i": i}).id for i in range(10)]
    finish(queue, ids[-1])
    queue.close()
    # Three records a job (queued, running, done): rewritten whenever it passes 4 x KEEP lines.
    assert len(path.read_text().splitlines()) <= 4 * 3 + 1
    again = JobQueue(WriteLock(), journal=path)
    assert [j.id for j in again.list()] == ids[:-4:-1]
    assert again.get(ids[-1]).result == {"i": 9}
    again.close()


def test_jobs_still_run_when_the_journal_cannot_be_written(tmp_path, caplog):
    path = tmp_path / JOURNAL
    path.mkdir()
    with caplog.at_level(logging.ERROR, logger="picsift.jobs"):
        queue = JobQueue(WriteLock(), journal=path)
        job = finish(queue, queue.submit("caption", {}, lambda progress: {"written": 0}).id)
    queue.close()
    assert job.state == "done" and job.result == {"written": 0}
    assert any("cannot write" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_a_job_url_answers_after_the_server_restarts(tmp_path, toy_clip):
    store = EdgeStore(tmp_path / "store")
    settings = Settings(store=str(store.directory), caption_model="toy")
    with TestClient(create_app(settings, store=store, encoder=toy_clip)) as client:
        job = wait(client, client.post("/api/jobs/caption").json()["url"])
    assert job["state"] == "done"
    with TestClient(create_app(settings, store=store, encoder=toy_clip)) as client:
        again = client.get(job["url"])
        assert again.status_code == 200 and again.json() == job
        assert client.get("/api/jobs").json()["jobs"] == [job]
    store.close()
