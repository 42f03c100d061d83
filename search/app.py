"""The FastAPI app: API under /api, the web UI at /, OpenAPI at /docs (offline), /healthz.

`create_app` is the factory; the lifespan opens the store (unless one is handed in), loads the
models once, and starts the job worker, so /healthz says ready only when all of that is done.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from picsift import __version__
from picsift.errors import ConfigError
from picsift.settings import Settings
from picsift.store import ImageStore, open_store
from picsift.text import NO_TEXT_VECTORS
from search import docs, errors
from search.deps import AppState
from search.jobs import JOURNAL, JobQueue, QueueFullError
from search.routes import (
    coding,
    export,
    images,
    jobs,
    search,
    selections,
    session,
    status,
    topics,
    variants,
)
from search.service import SearchService
from search.sessions import FILE as SESSIONS_FILE
from search.sessions import ReadSessions
from search.uploads import BodyLimit, Limits
from search.writelock import WriteLock

if TYPE_CHECKING:
    from picsift.models.protocols import Encoder

JOB_STOP_WAIT_S = 60.0


def ui_dir() -> Path:
    """The static web UI shipped in the `ui` package."""
    import ui

    # `__path__`, not `__file__`: an editable install may import `ui` as a namespace package.
    folder = next((Path(p) for p in ui.__path__ if Path(p).is_dir()), Path(ui.__path__[0]))
    return folder.resolve() / "static"


def make_encoder(store: ImageStore, settings: Settings) -> Encoder:
    """The encoder of the store's model (or PICSIFT_MODEL / the default for an empty store,
    which the first index job then creates)."""
    from picsift.models.factory import encoder_for

    return encoder_for(store, settings, new_store=True)


def server_url(settings: Settings) -> str:
    """Where other processes on this machine reach the server."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    return f"http://{host}:{settings.port}"


def read_sessions(settings: Settings) -> ReadSessions | None:
    """The browsers' read sessions, when reads are closed (open reads need none)."""
    if settings.public_read or settings.api_key is None:
        return None
    return ReadSessions(
        settings.api_key.get_secret_value(),
        settings.session_ttl,
        settings.data_dir / SESSIONS_FILE,
    )


def create_app(
    settings: Settings,
    *,
    store: ImageStore | None = None,
    encoder: Encoder | None = None,
    limits: Limits | None = None,
) -> FastAPI:
    """The API + UI app.

    Args:
        settings: The server's settings (store, keys, public reads, data folder).
        store: An open store to serve (the caller closes it); default: open the configured
            store in the lifespan, hold it (and its lock) until shutdown.
        encoder: The CLIP encoder; default: the store's model.
        limits: Upload and body limits, and the folders index jobs may read.

    Raises:
        ConfigError: reads are closed but no API key is set (nobody could read).
    """
    if not settings.public_read and settings.api_key is None:
        raise ConfigError(
            "PICSIFT_PUBLIC_READ=false needs PICSIFT_API_KEY: without a key nobody could read"
        )
    limits = limits or Limits()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = store is None
        opened = store or await run_in_threadpool(open_store, settings, "picsift serve")
        state: AppState | None = None
        try:
            model = encoder or make_encoder(opened, settings)
            # Models load once, here, not on the first request.
            await run_in_threadpool(model.embed_texts, ["warm up"])
            # uvicorn's own logger: it is the one `picsift serve` prints at INFO.
            served = logging.getLogger("uvicorn.error")
            served.info("query encoding: %s", getattr(model, "text_description", "unknown"))
            if opened.exists and not opened.has_text_vectors:
                served.warning(NO_TEXT_VECTORS)
            write_lock = WriteLock()
            state = AppState(
                settings=settings,
                store=opened,
                encoder=model,
                service=SearchService(opened, model),
                jobs=JobQueue(
                    write_lock,
                    on_done=lambda job: state.changed(),
                    journal=settings.data_dir / JOURNAL,
                    max_queued=settings.max_queued_jobs,
                ),
                write_lock=write_lock,
                limits=limits,
                sessions=read_sessions(settings),
            )
            lock = getattr(opened, "lock", None)
            if own and lock is not None:
                lock.set_url(server_url(settings))
            app.state.picsift = state
            state.ready = True
            yield
        finally:
            if state is not None:
                state.ready = False
                await run_in_threadpool(state.jobs.close, JOB_STOP_WAIT_S)
            if own:
                opened.close()

    app = FastAPI(
        title="picsift",
        version=__version__,
        description="Search and explore the images of social-media research corpora.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    docs.install(app)
    errors.install(app)
    app.add_exception_handler(QueueFullError, queue_full)
    app.add_middleware(BodyLimit, limits=limits)
    app.add_middleware(SecurityHeaders)
    routers = (search, images, topics, variants, selections, coding, jobs, export, status, session)
    for module in routers:
        app.include_router(module.router)
    if ui_dir().is_dir():
        app.mount("/", StaticFiles(directory=ui_dir(), html=True), name="ui")
    return app


async def queue_full(request: Request, exc: QueueFullError) -> JSONResponse:
    """HTTP 429 for a job refused because too many wait, saying when to try again."""
    response = errors.error_response(429, "too_many_jobs", str(exc))
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


class SecurityHeaders:
    """ASGI middleware adding headers to every response."""

    HEADERS = (
        # Stored files come from scraped posts: a browser must never sniff one into HTML.
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
    )

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
