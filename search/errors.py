"""HTTP status codes at the API boundary: every error is JSON naming what was wrong, never a
stack trace. Messages of picsift errors start with the parameter at fault (`limit: ...`)."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from picsift.errors import (
    ConfigError,
    InputError,
    ModelUnavailableError,
    PicsiftError,
    StoreError,
)
from search.service import NotFoundError
from search.uploads import ForbiddenError, TooLargeError

log = logging.getLogger("picsift.api")
_PARAM = re.compile(r"^([A-Za-z_][A-Za-z0-9_.-]*(?:\[\d+\])?): ")


class UnauthorizedError(PicsiftError):
    """No or a wrong API key."""


class BusyError(PicsiftError):
    """A write cannot run now because another one holds the store (HTTP 409)."""


_STATUS: list[tuple[type[Exception], int, str]] = [
    (NotFoundError, 404, "not_found"),
    (TooLargeError, 413, "too_large"),
    (ForbiddenError, 403, "forbidden"),
    (InputError, 422, "invalid_parameter"),
    (UnauthorizedError, 401, "unauthorized"),
    (BusyError, 409, "busy"),
    (StoreError, 409, "store"),
    (ModelUnavailableError, 503, "model_unavailable"),
    (ConfigError, 500, "config"),
]


_MEANING = {
    401: "No API key, or a wrong one (writes; reads too when PICSIFT_PUBLIC_READ=false).",
    403: "Not allowed here, e.g. a path outside the index roots.",
    404: "No such image, topic or job (the message names it).",
    409: "The store cannot do it now: busy, empty, or no topics yet (the message says which).",
    413: "The upload is over the size limit.",
    422: "A parameter is wrong; `parameter` names it and the message says why.",
    429: "Too many jobs wait; try again after Retry-After seconds.",
    503: "A model or tool it needs cannot run on this server (the message says what is missing).",
}


def documented(*codes: int, why: dict[int, str] | None = None) -> dict[int | str, Any]:
    """The OpenAPI `responses` of the error answers a route can give, each with the JSON
    error body; `why` words a code's meaning for this route."""
    from search.schemas import ErrorOut

    why = why or {}
    return {
        code: {"model": ErrorOut, "description": why.get(code, _MEANING[code])} for code in codes
    }


def error_response(
    status: int,
    code: str,
    message: str,
    parameter: str | None = None,
    headers: dict[str, str] | None = None,
):
    """The JSON body every error has."""
    if parameter is None:
        match = _PARAM.match(message)
        parameter = match.group(1) if match else None
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer"} | (headers or {})
    body = {"error": code, "parameter": parameter, "message": message}
    return JSONResponse(body, status_code=status, headers=headers)


async def _picsift_error(request: Request, exc: Exception) -> JSONResponse:
    for kind, status, code in _STATUS:
        if isinstance(exc, kind):
            return error_response(status, code, str(exc))
    return error_response(400, "error", str(exc))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    first = errors[0] if errors else {}
    # ("query", "topic", 0) -> "topic": the parameter, not the position in its list.
    skip = ("query", "path", "body", "header")
    loc = [str(p) for p in first.get("loc", ()) if p not in skip and not isinstance(p, int)]
    parameter = ".".join(loc) or None
    got = f" (got {_short(first['input'])})" if first.get("input") is not None else ""
    message = f"{parameter or 'request'}: {first.get('msg', 'invalid')}{got}"
    if len(errors) > 1:
        message += f"; and {len(errors) - 1} more problem(s)"
    return error_response(422, "invalid_parameter", message, parameter)


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    codes = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}
    code = codes.get(exc.status_code, "error")
    # The router's own headers stay: a 405 must say which methods there are (`Allow`).
    return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal", "internal error; the server log has the details")


def install(app: FastAPI) -> None:
    """Register the handlers on the app."""
    app.add_exception_handler(PicsiftError, _picsift_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
