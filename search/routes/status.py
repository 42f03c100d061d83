"""What is in the store, and whether the server is ready."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from picsift import __version__
from picsift.store.status import store_status
from search.deps import ReadAccess, State
from search.schemas import HealthOut, StatusOut

router = APIRouter(tags=["status"])
STATUS_TTL_S = 5.0  # counting posts reads every image: not on every poll of a busy UI


@router.get("/api/status", response_model=StatusOut, dependencies=[ReadAccess])
def status(state: State) -> dict[str, Any]:
    """Counts, model, store backend, topic run, jobs."""
    key = (state.generation, int(time.monotonic() // STATUS_TTL_S))
    if state.status_cache is None or state.status_cache[0] != key:
        state.status_cache = (key, store_status(state.store, state.settings))
    return {
        **state.status_cache[1],
        "version": __version__,
        "query_encoding": state.encoder.text_description,
        "jobs": state.jobs.counts(),
        "read_requires_key": not state.settings.public_read,
        "write_requires_key": state.settings.api_key is not None,
    }


@router.get("/healthz", response_model=HealthOut, responses={503: {"model": HealthOut}})
def healthz(request: Request) -> Any:
    """200 once the store is open and the models are loaded, 503 before and while stopping."""
    state = getattr(request.app.state, "picsift", None)
    if state is None or not state.ready:
        return JSONResponse({"status": "starting"}, status_code=503)
    return {"status": "ok"}
