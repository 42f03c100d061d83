"""The store's write lock, shared by the job worker and the quick writes of routes (a topic
renamed or merged).

A caption or OCR job holds it for minutes. Between its images it calls `let_in`: when a quick
write is waiting, the job hands the lock over and takes it back after that write, so a rename
during a caption run waits for one batch of captions, not for the whole run.
"""

from __future__ import annotations

import threading

HANDOFF_S = 1.0  # how long the holder waits for a waiting writer to take the lock


class WriteLock:
    """A lock (`acquire`, `release`, `with`) whose holder can let waiting writers in."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = threading.Lock()  # guards `_waiting`
        self._waiting = 0
        self._taken = threading.Event()  # set when a writer got the lock

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Take the lock (as `threading.Lock.acquire`)."""
        with self._count:
            self._waiting += 1
        try:
            got = self._lock.acquire(blocking, timeout)
        finally:
            with self._count:
                self._waiting -= 1
        if got:
            self._taken.set()
        return got

    def release(self) -> None:
        """Give the lock up."""
        self._lock.release()

    def __enter__(self) -> WriteLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def let_in(self) -> bool:
        """For the holder, at a point where the store is consistent: when someone waits for
        the lock, hand it over and take it back once they are done. True when one came in."""
        with self._count:
            if not self._waiting:
                return False
            self._taken.clear()
        self._lock.release()
        came = self._taken.wait(HANDOFF_S)
        self._lock.acquire()
        return came
