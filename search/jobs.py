"""Write jobs (index, caption, topics): queued, run one at a time in a worker thread.

The embedded store belongs to the server process, so writes run here, on the same store object
the searches read; the write lock keeps every writer (jobs, renames, merges) one at a time.
Job records live in memory (the data they write does not): the last `KEEP` are kept.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from picsift.errors import PicsiftError
from search.service import NotFoundError

KEEP = 200
log = logging.getLogger("picsift.jobs")
Progress = Callable[[str, int, int], None]
Task = Callable[[Progress], dict[str, Any]]


class JobCancelled(Exception):
    """Raised inside a job's progress callback when the server shuts down."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass
class Job:
    """One job: what it does, where it is, and what it left."""

    id: str
    kind: str
    params: dict[str, Any]
    task: Task = field(repr=False)
    state: str = "queued"
    progress: dict[str, Any] | None = None
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: str | None = None
    created_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None

    def view(self) -> dict[str, Any]:
        """The job as the API shows it."""
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "params": self.params,
            "progress": self.progress,
            "stages": dict(self.stages),
            "result": self.result,
            "error": self.error,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "url": f"/api/jobs/{self.id}",
        }


class JobQueue:
    """A FIFO of jobs and the one worker thread that runs them under `write_lock`."""

    def __init__(self, write_lock: threading.Lock, on_done: Callable[[Job], None] | None = None):
        self.write_lock = write_lock
        self.on_done = on_done
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._worker = threading.Thread(target=self._run, name="picsift-jobs", daemon=True)
        self._worker.start()

    def submit(self, kind: str, params: dict[str, Any], task: Task) -> Job:
        """Queue a job; returns it at once (state `queued`)."""
        if self._stopping.is_set():
            raise PicsiftError("the server is shutting down; no new jobs")
        job = Job(uuid.uuid4().hex, kind, params, task)
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP:
                oldest = next(iter(self._jobs.values()))
                if oldest.state in ("queued", "running"):
                    break
                self._jobs.popitem(last=False)
        self._queue.put(job)
        return job

    def get(self, job_id: str) -> Job:
        """A job by id.

        Raises:
            NotFoundError: no such job (or it is too old to be kept).
        """
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"job_id: no job {job_id} (jobs are kept until restart)")
        return job

    def list(self) -> list[Job]:
        """Every kept job, newest first."""
        with self._lock:
            return list(reversed(self._jobs.values()))

    def counts(self) -> dict[str, int]:
        """How many jobs are queued and running."""
        jobs = self.list()
        return {s: sum(j.state == s for j in jobs) for s in ("queued", "running")}

    def close(self, timeout: float | None = None) -> None:
        """Stop taking jobs, cancel queued ones, and ask the running one to stop at its next
        progress report (between batches, so nothing half-written is left)."""
        self._stopping.set()
        self._queue.put(None)
        self._worker.join(timeout)

    def _progress(self, job: Job) -> Progress:
        def report(stage: str, done: int, total: int) -> None:
            if self._stopping.is_set():
                raise JobCancelled
            job.progress = {"stage": stage, "done": int(done), "total": int(total)}
            job.stages[stage] = job.progress

        return report

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                break
            if self._stopping.is_set():
                job.state, job.finished_at = "cancelled", _now()
                continue
            with self.write_lock:
                job.state, job.started_at = "running", _now()
                self._execute(job)
                job.finished_at = _now()
            if self.on_done:
                self.on_done(job)
        while not self._queue.empty():
            left = self._queue.get_nowait()
            if left is not None:
                left.state, left.finished_at = "cancelled", _now()

    def _execute(self, job: Job) -> None:
        try:
            job.result = job.task(self._progress(job))
            job.state = "done"
        except JobCancelled:
            job.state, job.error = "cancelled", "the server stopped while the job ran"
        except PicsiftError as exc:
            job.state, job.error = "failed", str(exc)
        except Exception as exc:
            # Anything else is a bug: logged with its trace, shown without it.
            log.exception("job %s (%s) failed", job.id, job.kind)
            job.state, job.error = "failed", f"internal error: {type(exc).__name__}: {exc}"
