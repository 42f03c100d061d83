"""Write jobs (index, caption, topics): queued, run one at a time in a worker thread.

The embedded store belongs to the server process, so writes run here, on the same store object
the searches read; the write lock keeps every writer (jobs, renames, merges) one at a time.
At most `max_queued` jobs wait (PICSIFT_MAX_QUEUED_JOBS); a job identical to one that waits
is refused with that one's id, since the waiting one will do the same work.
The last `KEEP` job records are kept, and with a journal (`jobs.jsonl` in the data folder) they
outlive a restart: a job the server stopped (or was killed) before it finished shows as
cancelled, so its id still answers with what it did.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import queue
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from picsift.errors import PicsiftError
from picsift.progress import Progress
from search.errors import BusyError
from search.service import NotFoundError
from search.writelock import WriteLock

KEEP = 200
MAX_QUEUED = 8
# A topic fit takes about half a minute of CPU: a slot frees in about that long.
RETRY_AFTER_S = 30
STATES = ("queued", "running", "done", "failed", "cancelled")
JOURNAL = "jobs.jsonl"
# Stages whose progress reports come between images whose writes are their own fields only
# (`caption`, `ocr`): there a waiting quick write (a topic renamed) may go in (`WriteLock`).
LET_IN = frozenset({"caption", "ocr"})
INTERRUPTED = (
    "the server stopped before this job finished; what it wrote is kept: submit it again to "
    "complete it"
)
log = logging.getLogger("picsift.jobs")
Task = Callable[[Progress], dict[str, Any]]


class QueueFullError(PicsiftError):
    """Too many jobs wait (HTTP 429, with Retry-After)."""

    def __init__(self, waiting: int, retry_after: int = RETRY_AFTER_S):
        super().__init__(
            f"{waiting} jobs are waiting, as many as this server queues "
            f"(PICSIFT_MAX_QUEUED_JOBS); try again in {retry_after} s, or when GET /api/jobs "
            "shows fewer queued"
        )
        self.retry_after = retry_after


class JobWaitingError(BusyError):
    """An identical job already waits (HTTP 409): it will do what the new one asks."""

    def __init__(self, job: Job):
        super().__init__(
            f"an identical {job.kind} job is already waiting: {job.id} (GET /api/jobs/{job.id})"
        )
        self.job_id = job.id


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
    task: Task | None = field(repr=False)
    state: str = "queued"
    progress: dict[str, Any] | None = None
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: str | None = None
    created_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    # What makes two jobs identical (None: never); not shown, not journaled.
    identity: Any = field(default=None, repr=False, compare=False)

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

    @classmethod
    def restore(cls, record: dict[str, Any]) -> Job:
        """A job from its journal record; one that had not finished is marked cancelled.

        Raises:
            ValueError, TypeError, AttributeError: the record is not a job's.
        """
        names = {f.name for f in fields(cls)} - {"task"}
        job = cls(task=None, **{k: v for k, v in record.items() if k in names})
        if job.state not in STATES:
            raise ValueError(f"unknown job state {job.state!r}")
        if job.state in ("queued", "running"):
            job.state, job.error = "cancelled", INTERRUPTED
        return job


class JobJournal:
    """Job records on disk, a JSON line per change; rewritten whole when it grows long.

    Failing to write it is logged and never fails a job: the records are a convenience, the
    data the jobs write is in the store.
    """

    def __init__(self, path: Path):
        self.path = path
        self._lines = 0

    def load(self) -> list[Job]:
        """The last `KEEP` jobs, oldest first; unreadable lines (a write cut short) are skipped."""
        jobs: dict[str, Job] = {}
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            log.warning("job records: cannot read %s (%s); starting without them", self.path, exc)
            return []
        for number, line in enumerate(text.splitlines(), 1):
            try:
                job = Job.restore(json.loads(line))
            except (ValueError, TypeError, AttributeError):
                log.warning("job records: %s line %d is not a job; skipped", self.path, number)
                continue
            jobs.pop(job.id, None)
            jobs[job.id] = job
        return list(jobs.values())[-KEEP:]

    def append(self, job: Job, kept: list[Job]) -> None:
        """Record the job's current state; rewrite the file from `kept` once it is long."""
        if self._lines >= 4 * KEEP:
            self.rewrite(kept)
            return
        self._write("a", [job])
        self._lines += 1

    def rewrite(self, kept: list[Job]) -> None:
        """Replace the file by one line for each of the last `KEEP` kept jobs."""
        self._write("w", kept[-KEEP:])
        self._lines = len(kept[-KEEP:])

    def _write(self, mode: str, jobs: list[Job]) -> None:
        target = self.path if mode == "a" else self.path.with_suffix(".tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open(mode, encoding="utf-8") as fh:
                fh.writelines(json.dumps(j.view(), default=str) + "\n" for j in jobs)
                fh.flush()
                os.fsync(fh.fileno())
            if target != self.path:
                os.replace(target, self.path)
        except OSError as exc:
            log.error("job records: cannot write %s (%s); jobs still run", self.path, exc)


class JobQueue:
    """A FIFO of jobs and the one worker thread that runs them under `write_lock`."""

    def __init__(
        self,
        write_lock: WriteLock,
        on_done: Callable[[Job], None] | None = None,
        journal: Path | None = None,
        max_queued: int = MAX_QUEUED,
    ):
        self.write_lock = write_lock
        self.max_queued = max_queued
        self.on_done = on_done
        self._journal = JobJournal(journal) if journal else None
        restored = self._journal.load() if self._journal else []
        self._jobs: OrderedDict[str, Job] = OrderedDict((j.id, j) for j in restored)
        if self._journal:
            self._journal.rewrite(restored)
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._worker = threading.Thread(target=self._run, name="picsift-jobs", daemon=True)
        self._worker.start()

    def submit(self, kind: str, params: dict[str, Any], task: Task, identity: Any = None) -> Job:
        """Queue a job; returns it at once (state `queued`).

        Args:
            kind: What the job does (`index`, `caption`, ...).
            params: Its parameters, as the API shows them.
            task: The work, called with a progress callback.
            identity: What makes a job the same as another (hashable); None: never the same.

        Raises:
            JobWaitingError: a job with the same `identity` waits.
            QueueFullError: `max_queued` jobs wait.
        """
        if self._stopping.is_set():
            raise PicsiftError("the server is shutting down; no new jobs")
        job = Job(uuid.uuid4().hex, kind, params, task, identity=identity)
        with self._lock:
            self._check_room(identity)
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP:
                oldest = next(iter(self._jobs.values()))
                if oldest.state in ("queued", "running"):
                    break
                self._jobs.popitem(last=False)
            self._record(job)
        self._queue.put(job)
        return job

    def check_room(self, identity: Any = None) -> None:
        """Raise what `submit` would raise now (checked again there): to refuse a job before
        its request body (an upload) is read."""
        with self._lock:
            self._check_room(identity)

    def _check_room(self, identity: Any) -> None:
        """The caller holds `_lock`."""
        waiting = [j for j in self._jobs.values() if j.state == "queued"]
        same = next((j for j in waiting if identity is not None and j.identity == identity), None)
        if same is not None:
            raise JobWaitingError(same)
        if len(waiting) >= self.max_queued:
            raise QueueFullError(len(waiting))

    def get(self, job_id: str) -> Job:
        """A job by id.

        Raises:
            NotFoundError: no such job (or it is too old to be kept).
        """
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"job_id: no job {job_id} (the last {KEEP} jobs are kept)")
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

    def _record(self, job: Job) -> None:
        """Journal the job's state; the caller holds `_lock`."""
        if self._journal:
            self._journal.append(job, list(self._jobs.values()))

    def _set(self, job: Job, state: str, **changes: Any) -> None:
        """Change a job's state (and other fields) and journal it."""
        with self._lock:
            job.state = state
            for name, value in changes.items():
                setattr(job, name, value)
            self._record(job)

    def _progress(self, job: Job) -> Progress:
        def report(stage: str, done: int, total: int) -> None:
            if self._stopping.is_set():
                raise JobCancelled
            job.progress = {"stage": stage, "done": int(done), "total": int(total)}
            job.stages[stage] = job.progress
            if stage in LET_IN:
                self.write_lock.let_in()

        return report

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                break
            if self._stopping.is_set():
                self._set(job, "cancelled", finished_at=_now())
                continue
            with self.write_lock:
                self._set(job, "running", started_at=_now())
                state, changes = self._execute(job)
                self._set(job, state, finished_at=_now(), **changes)
            if self.on_done:
                self.on_done(job)
        while not self._queue.empty():
            left = self._queue.get_nowait()
            if left is not None:
                self._set(left, "cancelled", finished_at=_now())

    def _execute(self, job: Job) -> tuple[str, dict[str, Any]]:
        """Run the job's task: (its end state, the fields to set with it)."""
        assert job.task is not None, "restored jobs are never queued"
        try:
            return "done", {"result": job.task(self._progress(job))}
        except JobCancelled:
            return "cancelled", {"error": "the server stopped while the job ran"}
        except PicsiftError as exc:
            return "failed", {"error": str(exc)}
        except Exception as exc:
            # Anything else is a bug: logged with its trace, shown without it.
            log.exception("job %s (%s) failed", job.id, job.kind)
            return "failed", {"error": f"internal error: {type(exc).__name__}: {exc}"}
