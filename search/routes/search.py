"""Text -> image and uploaded image -> image search."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile

from search.deps import ReadAccess, Search, State
from search.query import SearchRequest
from search.schemas import SearchOut
from search.service import SearchResult
from search.uploads import decode_upload, read_upload

router = APIRouter(prefix="/api", tags=["search"], dependencies=[ReadAccess])


def page(result: SearchResult, request: SearchRequest) -> dict[str, Any]:
    """A result with its paging fields."""
    full = len(result.hits) == request.limit
    return {
        "query": result.query,
        "hits": result.hits,
        "limit": request.limit,
        "offset": request.offset,
        "next_offset": request.offset + request.limit if full else None,
        "group_by": request.group_by,
        "min_score": result.min_score,
        "matched": result.matched,
        "matched_capped": result.matched_capped,
        "relevance": result.relevance,
    }


@router.get("/search", response_model=SearchOut)
def search(state: State, request: Search) -> dict[str, Any]:
    """Images for a text query (`q`, minus `not`), filtered and paged. Without `q`, the
    images matching the filters, newest first (by first seen, ties by id), score null."""
    service = state.service
    result = service.search(request) if request.terms else service.browse(request)
    return page(result, request)


@router.post("/search/image", response_model=SearchOut)
def search_image(
    state: State,
    request: Search,
    file: Annotated[UploadFile, File(description="The image to match.")],
    q: Annotated[str | None, Form(description="Text terms to mix in (optional).")] = None,
) -> dict[str, Any]:
    """Images like an uploaded one (optionally mixed with text terms), filtered and paged."""
    if q and q.strip():
        request = replace(request, q=(*request.q, q))
    image = decode_upload(read_upload(file.file, state.limits.image_bytes), state.limits)
    return page(state.service.search_image(image, request), request)
