"""Single-process ownership of an embedded store: an OS file lock plus who holds it.

The lock is `flock` on `<store>/.picsift.lock`; the kernel drops it when the process dies, so
a killed process never leaves a stale lock. The file's JSON body says who holds it (PID,
command, the URL of `picsift serve`) so a second process can say something useful.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import sys
from pathlib import Path
from typing import Any

from picsift.errors import StoreLockedError

LOCK_NAME = ".picsift.lock"


class StoreLock:
    """Exclusive lock on a store directory, held until `release()`."""

    def __init__(self, directory: Path):
        self.path = Path(directory) / LOCK_NAME
        self._fd: int | None = None
        self._info: dict[str, Any] = {}

    def acquire(self, command: str | None = None) -> None:
        """Take the lock or raise `StoreLockedError` naming the holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreLockedError(self._busy_message()) from None
        self._fd = fd
        self._info = {
            "pid": os.getpid(),
            "command": command or " ".join(["picsift", *sys.argv[1:2]]),
            "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "url": None,
        }
        self._write()

    def set_url(self, url: str) -> None:
        """Record the API URL of the holding `picsift serve`, for other commands to use."""
        self._info["url"] = url
        self._write()

    def release(self) -> None:
        """Drop the lock (idempotent)."""
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def _write(self) -> None:
        assert self._fd is not None
        body = json.dumps(self._info).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, body, 0)

    def _busy_message(self) -> str:
        info = read_holder(self.path.parent) or {}
        who = f"PID {info.get('pid', '?')}"
        what = info.get("command") or "another picsift process"
        store = self.path.parent
        if info.get("url"):
            return (
                f"store {store} is open by {who} (`{what}` at {info['url']}); while it runs, "
                f"work through its API or web UI at {info['url']}, or stop it first"
            )
        return (
            f"store {store} is open by {who} (`{what}`, since {info.get('since', '?')}); an "
            "embedded store serves one process at a time: wait for it to finish or stop it, "
            "or use a Qdrant server (PICSIFT_STORE=http://...) for several processes"
        )


def read_holder(directory: Path) -> dict[str, Any] | None:
    """Who holds the store's lock, if it is held (None when free or unreadable)."""
    path = Path(directory) / LOCK_NAME
    try:
        text = path.read_text()
    except OSError:
        return None
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None
