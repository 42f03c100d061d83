"""A read session for browsers: with closed reads, images in <img> tags need a cookie, since
tags cannot send the API key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from picsift.settings import Settings
from search.deps import READ_COOKIE, State, check_key

router = APIRouter(tags=["status"])


def came_over_https(request: Request, settings: Settings) -> bool:
    """Whether the cookie gets `Secure`: as PICSIFT_COOKIE_SECURE says, or (auto) when the
    request came over HTTPS, as the server saw it or, with PICSIFT_TRUST_PROXY, as the proxy
    in front of it says."""
    if settings.cookie_secure != "auto":
        return settings.cookie_secure == "true"
    if request.url.scheme == "https":
        return True
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return settings.trust_proxy and forwarded == "https"


@router.post("/api/session")
def open_session(request: Request, response: Response, state: State) -> dict[str, Any]:
    """Exchange the API key (bearer header) for a read cookie, when reads are closed; it lasts
    PICSIFT_SESSION_TTL seconds, until `DELETE /api/session`, or until the key changes."""
    if state.sessions is None:
        return {"read_cookie": False}
    check_key(request, state, "a read session")
    response.set_cookie(
        READ_COOKIE,
        state.sessions.open(),
        max_age=state.settings.session_ttl,
        httponly=True,
        samesite="strict",
        path="/api",
        secure=came_over_https(request, state.settings),
    )
    return {"read_cookie": True, "expires_in": state.settings.session_ttl}


@router.delete("/api/session")
def close_session(request: Request, response: Response, state: State) -> dict[str, Any]:
    """End this browser's read session (others stay open) and forget its cookie."""
    if state.sessions is not None:
        state.sessions.close(request.cookies.get(READ_COOKIE, ""))
    response.delete_cookie(
        READ_COOKIE,
        path="/api",
        httponly=True,
        samesite="strict",
        secure=came_over_https(request, state.settings),
    )
    return {"read_cookie": False}
