"""Qualitative coding over the API (`search.coding`): coders, the codebook, codes applied to
images, the log, and agreement.

Who writes a coding: the coder whose key is the bearer token, or whose cookie the browser
carries (`POST /api/coders/session` exchanges a coder's key for it: it allows coding writes
only); with the admin key (PICSIFT_API_KEY), or on a server without one, the `coder` named.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from picsift.errors import InputError
from search import coding
from search.deps import AppState, ReadAccess, State, WriteAccess, check_key
from search.errors import UnauthorizedError, documented
from search.routes.session import came_over_https
from search.suggest import suggestions

router = APIRouter(tags=["coding"])
COOKIE = "picsift_coder"
SECRET_FILE = "coder-cookie.key"
ImageId = Annotated[str, Path(max_length=64, description="The image's id.")]
CoderName = Annotated[str, Path(max_length=coding.MAX_NAME, description="The coder's name.")]


class CoderIn(BaseModel):
    name: str = Field(max_length=coding.MAX_NAME)


class CodeIn(BaseModel):
    code: str = Field(max_length=coding.MAX_NAME)
    description: str = Field("", max_length=2000)


class CodingIn(BaseModel):
    """One coder's codes for the image (empty: seen, not applied)."""

    codes: list[str] = Field(default_factory=list, max_length=200)
    coder: str | None = Field(
        None,
        max_length=coding.MAX_NAME,
        description="With the admin key: the coder this coding is by (a coder codes as themself).",
    )


def _secret(state: AppState) -> bytes:
    """The server's key for signing coder cookies: made once (written whole, then published
    under its name, so no reader sees half of it; readable by the owner only), kept in the data
    folder and never exported with the store."""
    path = state.settings.data_dir / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{SECRET_FILE}.{secrets.token_hex(8)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(32))
        try:
            os.link(draft, path)  # fails if another request published one first
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_bytes()


def _mac(state: AppState, message: str, key_sha256: str) -> str:
    """The cookie's signature, bound to the coder's key: a new key ends the old cookies."""
    payload = f"{message}\n{key_sha256}".encode()
    return hmac.new(_secret(state), payload, hashlib.sha256).hexdigest()


def _signed(state: AppState, coder: str) -> str:
    expires = int(time.time()) + state.settings.session_ttl
    message = base64.urlsafe_b64encode(f"{coder}\n{expires}".encode()).decode()
    record = state.store.notes(coding.CODERS).get(coder) or {}
    return f"{message}.{_mac(state, message, record.get('key_sha256', ''))}"


def _cookie_coder(state: AppState, cookie: str) -> str | None:
    """The coder a cookie signs in: ours, unexpired, and for the coder's current key; None
    for anything else (a cookie is the browser's to send, so a malformed one is no error)."""
    try:
        message, _, mac = cookie.partition(".")
        coder, _, expires = base64.urlsafe_b64decode(message.encode()).decode().rpartition("\n")
        record = state.store.notes(coding.CODERS).get(coder) if coder else None
        if record is None or record.get("revoked_at") or int(expires) < time.time():
            return None
        good = _mac(state, message, record["key_sha256"])
        return coder if hmac.compare_digest(mac.encode(), good.encode()) else None
    except (ValueError, UnicodeError, binascii.Error):
        return None


def writer(request: Request, state: AppState, named: str | None) -> str:
    """Who a coding write is by (see the module).

    Raises:
        UnauthorizedError: a coder key that is no coder's, or no key at all where one is set.
        InputError: naming `coder`: none named with the admin key, or a coder naming another.
    """
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    coder = None
    if token.startswith(coding.KEY_PREFIX):
        coder = coding.coder_of_key(state.store, token)
        if coder is None:
            raise UnauthorizedError("authorization: this is no coder's key")
    elif not token and request.cookies.get(COOKIE):
        coder = _cookie_coder(state, request.cookies[COOKIE])
    if coder is not None:
        if named is not None and named != coder:
            raise InputError(f"coder: {coder!r} is signed in; a coder codes as themself")
        return coder
    check_key(request, state, "coding writes (a coder's key, or the API key naming the coder)")
    if named is None:
        raise InputError("coder: name the coder this coding is by")
    return coding.check_coder(state.store, named)


@router.post("/api/coders", status_code=201, dependencies=[WriteAccess], responses=documented(401))
def add_coder(state: State, body: CoderIn) -> dict[str, str]:
    """Add a coder; the answer holds their key, shown this once (only its hash is kept)."""
    return {"name": body.name.strip(), "key": coding.add_coder(state.store, body.name)}


@router.post("/api/coders/{name}/key", dependencies=[WriteAccess], responses=documented(401, 404))
def rekey_coder(state: State, name: CoderName) -> dict[str, str]:
    """Give a coder a new key (shown this once); the old key and its cookies stop working."""
    return {"name": name, "key": coding.new_key(state.store, name)}


@router.delete(
    "/api/coders/{name}/key",
    status_code=204,
    dependencies=[WriteAccess],
    responses=documented(401, 404),
)
def revoke_coder(state: State, name: CoderName) -> None:
    """Take a coder's key away (their codings stay); a new key gives it back."""
    coding.revoke(state.store, name)


@router.get("/api/coders", dependencies=[ReadAccess])
def list_coders(state: State) -> list[dict[str, Any]]:
    """The coders, oldest first."""
    return coding.coders(state.store)


@router.post("/api/coders/session", responses=documented(401))
def sign_in(request: Request, response: Response, state: State) -> dict[str, Any]:
    """Exchange a coder's key (bearer header) for a cookie that allows coding writes only; it
    lasts PICSIFT_SESSION_TTL seconds or until `DELETE /api/coders/session`."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    coder = coding.coder_of_key(state.store, token.strip()) if scheme.lower() == "bearer" else None
    if coder is None:
        raise UnauthorizedError("authorization: sign in with a coder's key (Bearer KEY)")
    response.set_cookie(
        COOKIE,
        _signed(state, coder),
        max_age=state.settings.session_ttl,
        httponly=True,
        samesite="strict",
        path="/api",
        secure=came_over_https(request, state.settings),
    )
    return {"coder": coder, "expires_in": state.settings.session_ttl}


@router.get("/api/coders/session")
def signed_in(request: Request, state: State) -> dict[str, Any]:
    """Which coder this browser's cookie signs in (null: none)."""
    cookie = request.cookies.get(COOKIE)
    return {"coder": _cookie_coder(state, cookie) if cookie else None}


@router.delete("/api/coders/session")
def sign_out(request: Request, response: Response, state: State) -> dict[str, Any]:
    """Forget this browser's coder cookie."""
    secure = came_over_https(request, state.settings)
    response.delete_cookie(COOKIE, path="/api", httponly=True, samesite="strict", secure=secure)
    return {"coder": None}


@router.get("/api/codes", dependencies=[ReadAccess])
def list_codes(state: State) -> list[dict[str, Any]]:
    """The codebook, in the order the codes were added."""
    return coding.codebook(state.store)


@router.post("/api/codes", dependencies=[WriteAccess], responses=documented(401))
def add_code(state: State, body: CodeIn) -> dict[str, Any]:
    """Add a code to the codebook (or change its description)."""
    return coding.add_code(state.store, body.code, body.description)


@router.get("/api/codes/agreement", dependencies=[ReadAccess])
def agreement(state: State) -> dict[str, Any]:
    """Per code, Krippendorff's alpha over the images two or more coders saw, and the images
    they disagree on."""
    return coding.agreement(state.store)


@router.get("/api/codings", dependencies=[ReadAccess])
def list_codings(
    state: State,
    coder: Annotated[
        str | None, Query(max_length=coding.MAX_NAME, description="Only this coder's.")
    ] = None,
) -> list[dict[str, Any]]:
    """Each coder's latest codes per image (only `coder`'s, when named)."""
    return [c for c in coding.codings(state.store) if coder is None or c["coder"] == coder]


@router.get("/api/codes/log", dependencies=[ReadAccess])
def coding_log(state: State) -> list[dict[str, Any]]:
    """Every coding write, oldest first: who, when, which image, which codes."""
    return coding.log(state.store)


@router.get("/api/images/{image_id}/codes", dependencies=[ReadAccess], responses=documented(404))
def image_codes(state: State, image_id: ImageId) -> list[dict[str, Any]]:
    """Each coder's latest codes for the image."""
    return coding.codings(state.store, coding.stored_image(state.store, image_id))


@router.get(
    "/api/images/{image_id}/codes/suggestions",
    dependencies=[ReadAccess],
    responses=documented(404),
)
def code_suggestions(state: State, image_id: ImageId) -> dict[str, Any]:
    """Zero-shot suggestions from the codebook for a coder's view: the codes the image stands
    out for, each against its own calibrated edge. Never stored, never counted as a coder."""
    return suggestions(state.service, image_id)


@router.put("/api/images/{image_id}/codes", responses=documented(401, 404))
def code_image(request: Request, state: State, image_id: ImageId, body: CodingIn) -> dict:
    """Record the signed-in coder's codes for the image, replacing theirs (none: seen, not
    applied); every write is logged."""
    coder = writer(request, state, body.coder)
    return coding.code_image(state.store, image_id, coder, body.codes)
