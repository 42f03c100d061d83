"""The one client of a running `picsift serve`. An embedded store is open in one process at a
time; while a server holds it, commands do their work through its API (reads, exports and
index jobs) and print what they would have printed on their own."""

from __future__ import annotations

import contextlib
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import typer

from cli.display import shown
from picsift.errors import InputError, PicsiftError, StoreLockedError
from picsift.settings import Settings
from picsift.store import ImageStore, open_store
from picsift.store.lock import read_holder

Params = Sequence[tuple[str, str]]


class Server:
    """The API of the server at `url`, with the settings' API key."""

    def __init__(
        self,
        url: str,
        settings: Settings,
        timeout: float = 600.0,
        locked: StoreLockedError | None = None,
    ):
        self.url = url
        self.locked = locked  # why the command came here: the store's lock names its holder
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json"}
        if settings.api_key is not None:
            self.headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"

    @classmethod
    def holding(cls, settings: Settings, locked: StoreLockedError) -> Server:
        """The server that holds the settings' embedded store.

        Raises:
            StoreLockedError: `locked` again when the holder is not a server (another command).
        """
        holder = None if settings.is_server else read_holder(Path(settings.store))
        url = (holder or {}).get("url")
        if not url:
            raise locked
        return cls(url, settings, locked=locked)

    def get(self, path: str, params: Params = (), what: str = "the request") -> Any:
        """GET `path` and its JSON answer."""
        with self._talking(what), self._open(path, params, None, what) as response:
            return json.loads(response.read())

    def post(
        self,
        path: str,
        body: dict[str, Any],
        what: str = "the request",
        method: str = "POST",
        params: Params = (),
    ) -> Any:
        """POST (or `method`) a JSON `body` to `path` (with `params` in its query string) and
        its JSON answer (None for an answer without a body)."""
        data = json.dumps(body).encode()
        with self._talking(what), self._open(path, params, data, what, method) as response:
            answer = response.read()
        return json.loads(answer) if answer else None

    def run_job(self, path: str, body: dict[str, Any], what: str) -> Any:
        """Submit the job of `path` (e.g. /api/jobs/index) and follow it until it ends, as
        the command would have run alone; its result.

        Raises:
            PicsiftError: the job failed or was cancelled (its error).
        """
        job = self.post(path, body, f"the {what} job")
        typer.echo(
            f"the store is open by picsift serve at {self.url}: {what} there as job {job['id']}"
        )
        try:
            while job["state"] in {"queued", "running"}:
                time.sleep(1)
                job = self.get(f"/api/jobs/{job['id']}", what=f"the {what} job")
        except KeyboardInterrupt:
            typer.echo(f"stopped following job {job['id']}; it goes on at {self.url}/api/jobs")
            raise typer.Exit(130) from None
        if job["state"] != "done":
            raise PicsiftError(
                f"{what} job {job['id']} at {self.url} {job['state']}: {job['error']}"
            )
        return job["result"]

    def download(self, path: str, params: Params, out: Path, what: str) -> None:
        """GET `path` into the file `out`, streamed."""
        with (
            self._talking(what),
            self._open(path, params, None, what) as response,
            out.open("wb") as fh,
        ):
            while chunk := response.read(1 << 16):
                fh.write(chunk)

    def _open(
        self, path: str, params: Params, data: bytes | None, what: str, method: str | None = None
    ):
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        request = urllib.request.Request(
            f"{self.url}{path}{query}", data, self.headers, method=method
        )
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            detail = _detail(exc)
            # The refusal may quote the query or a stored name back.
            message = f"the server at {self.url} refused {what}: {shown(detail)}"
            raise (InputError if exc.code < 500 else PicsiftError)(message) from None
        except urllib.error.URLError as exc:
            held = f"{self.locked}; " if self.locked else ""
            raise PicsiftError(
                f"{held}the server at {self.url} does not answer ({exc.reason})"
            ) from None

    @contextlib.contextmanager
    def _talking(self, what: str) -> Iterator[None]:
        """A server that stops answering half-way (a read timing out, a dropped connection)
        is a PicsiftError saying so, not a traceback."""
        try:
            yield
        except (TimeoutError, ConnectionError, http.client.HTTPException) as exc:
            why = str(exc) or type(exc).__name__
            raise PicsiftError(
                f"the server at {self.url} stopped answering {what} ({why}; waited up to "
                f"{self.timeout:g} s)"
            ) from None


def open_or_served(settings: Settings, command: str) -> ImageStore | Server:
    """The settings' store opened for `command`, or the server that holds it (the command
    then does its work through the server's API).

    Raises:
        StoreLockedError: the store is held by a process that is no server.
    """
    try:
        return open_store(settings, command=command)
    except StoreLockedError as locked:
        return Server.holding(settings, locked)


def _detail(exc: urllib.error.HTTPError) -> str:
    try:
        return json.loads(exc.read() or b"{}").get("message") or exc.reason
    except (ValueError, AttributeError):
        return str(exc.reason)
