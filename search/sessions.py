"""Read sessions for browsers with closed reads: <img> tags cannot send the API key, so a page
that showed the key once gets a random session id in a cookie, which opens reads only.

Each session ends at its expiry, when it is closed, or when the key changes: the server keeps
an HMAC of each id under the key (never the id), so under another key no id matches. They are
kept in `sessions.json` in the data folder, so a restart keeps them; failing to write the file
is logged and only costs that: the sessions live on in memory until the server stops.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path

MAX_SESSIONS = 1_000
FILE = "sessions.json"
log = logging.getLogger("picsift.sessions")


class ReadSessions:
    """The open read sessions: id digest -> expiry (Unix time), oldest first."""

    def __init__(self, key: str, ttl: float, path: Path | None = None, limit: int = MAX_SESSIONS):
        self.ttl = ttl
        self.path = path
        self.limit = limit
        # Wall-clock time, not monotonic: expiries are kept across restarts. Tests replace it.
        self.clock = time.time
        self._key = key.encode()
        self._lock = threading.Lock()
        self._open: OrderedDict[str, float] = OrderedDict()
        self._load()

    def open(self) -> str:
        """A new session id (for the cookie), valid for `ttl` seconds; the oldest session is
        dropped when there are `limit` of them."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._drop_expired()
            self._open[self._digest(token)] = self.clock() + self.ttl
            while len(self._open) > self.limit:
                self._open.popitem(last=False)
            self._save()
        return token

    def valid(self, token: str) -> bool:
        """Whether `token` is a session that is open and not expired."""
        if not token:
            return False
        digest = self._digest(token)
        with self._lock:
            expires = self._open.get(digest)
            if expires is not None and expires <= self.clock():
                del self._open[digest]
                expires = None
        return expires is not None

    def close(self, token: str) -> None:
        """End the session `token` (nothing happens when it is not open)."""
        with self._lock:
            if self._open.pop(self._digest(token), None) is not None:
                self._save()

    def _digest(self, token: str) -> str:
        return hmac.new(self._key, token.encode(), hashlib.sha256).hexdigest()

    def _fingerprint(self) -> str:
        return hmac.new(self._key, b"picsift read sessions", hashlib.sha256).hexdigest()

    def _drop_expired(self) -> None:
        now = self.clock()
        for digest in [d for d, expires in self._open.items() if expires <= now]:
            del self._open[digest]

    def _load(self) -> None:
        """Take up the kept sessions: none when the file is missing or unreadable; and when it
        was written under another key, forget them on disk too (a key change ends them all,
        also for a later return to the old key)."""
        if self.path is None:
            return
        try:
            kept = json.loads(self.path.read_text(encoding="utf-8"))
            if not secrets.compare_digest(str(kept["key"]), self._fingerprint()):
                log.info("read sessions: the API key changed; every session has ended")
                self._save()
                return
            found = sorted((float(e), str(d)) for d, e in kept["sessions"].items())
        except FileNotFoundError:
            return
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("read sessions: cannot read %s (%s); starting without", self.path, exc)
            return
        now = self.clock()
        self._open.update((d, e) for e, d in found[-self.limit :] if e > now)

    def _save(self) -> None:
        """Write the sessions (the caller holds `_lock`); readable by this user only."""
        if self.path is None:
            return
        body = json.dumps({"key": self._fingerprint(), "sessions": dict(self._open)})
        temp = self.path.with_suffix(".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(body)
            os.replace(temp, self.path)
        except OSError as exc:
            log.error("read sessions: cannot write %s (%s); kept in memory only", self.path, exc)
