"""A read session for browsers: with closed reads, images in <img> tags need a cookie, since
tags cannot send the API key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from search.deps import READ_COOKIE, State, check_key, read_token

router = APIRouter(tags=["status"])


@router.post("/api/session")
def open_session(request: Request, response: Response, state: State) -> dict[str, Any]:
    """Exchange the API key (bearer header) for a read cookie, when reads are closed."""
    key = state.settings.api_key
    if state.settings.public_read or key is None:
        return {"read_cookie": False}
    check_key(request, state, "a read session")
    response.set_cookie(
        READ_COOKIE,
        read_token(key.get_secret_value()),
        httponly=True,
        samesite="strict",
        path="/api",
    )
    return {"read_cookie": True}


@router.delete("/api/session")
def close_session(response: Response) -> dict[str, Any]:
    """Forget the read cookie."""
    response.delete_cookie(READ_COOKIE, path="/api", httponly=True, samesite="strict")
    return {"read_cookie": False}
