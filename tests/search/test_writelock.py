"""A long caption or OCR job lets a quick write (a topic renamed) in between its images; other
jobs keep the store to themselves until they end."""

from __future__ import annotations

import threading
import time

import pytest

from search.jobs import JobQueue
from search.writelock import WriteLock


def _job(stage: str, started: threading.Event, stop: threading.Event):
    def task(progress):
        started.set()
        step = 0
        while not stop.is_set():
            step += 1
            progress(stage, step, 0)
            time.sleep(0.02)  # one image
        return {"steps": step}

    return task


@pytest.mark.parametrize(("stage", "lets_in"), [("caption", True), ("ocr", True), ("write", False)])
def test_a_quick_write_goes_in_between_the_images_of_a_caption_job(stage, lets_in):
    lock = WriteLock()
    queue = JobQueue(lock)
    started, stop = threading.Event(), threading.Event()
    job = queue.submit(stage, {}, _job(stage, started, stop))
    try:
        assert started.wait(5)
        got = lock.acquire(timeout=0.5)
        assert got == lets_in
        if got:
            assert job.state == "running"  # in the middle of the job
            seen = job.progress["done"]
            time.sleep(0.1)
            assert job.progress["done"] == seen  # the job waits while the write holds it
            lock.release()
    finally:
        stop.set()
        queue.close(timeout=5)
    assert job.state == "done"


def test_let_in_without_a_waiting_writer_keeps_the_lock():
    lock = WriteLock()
    with lock:
        assert lock.let_in() is False
        assert not lock.acquire(blocking=False)
