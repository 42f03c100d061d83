"""Text -> image and uploaded image -> image search."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile

from search.deps import NO_SELECTION, ReadAccess, Search, State
from search.posts import POSTS_PAGE, POSTS_PAGE_MAX
from search.query import SearchRequest
from search.schemas import PostsOut, SearchOut
from search.service import SearchResult
from search.uploads import decode_upload, read_upload

router = APIRouter(prefix="/api", tags=["search"], dependencies=[ReadAccess])


def page(result: SearchResult, request: SearchRequest) -> dict[str, Any]:
    """A result with its paging fields."""
    full = len(result.hits) == request.limit
    return {
        "query": result.query,
        "mode": result.mode,
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


@router.get(
    "/search",
    response_model=SearchOut,
    responses=NO_SELECTION,
)
def search(state: State, request: Search) -> dict[str, Any]:
    """Images for a text query (`q`, minus `not`), filtered and paged. Without `q`, the
    images matching the filters, newest first (by first seen, ties by id), score null."""
    service = state.service
    result = service.search(request) if request.terms else service.browse(request)
    return page(result, request)


@router.post(
    "/search/image",
    response_model=SearchOut,
    responses=NO_SELECTION,
)
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


@router.get("/images/{image_id}/posts", response_model=PostsOut, tags=["images"])
def image_posts(
    state: State,
    image_id: str,
    offset: Annotated[int, Query(ge=0, description="Posts to skip.")] = 0,
    limit: Annotated[
        int, Query(ge=1, le=POSTS_PAGE_MAX, description="Posts at most.")
    ] = POSTS_PAGE,
) -> dict[str, Any]:
    """A page of an image's posts in full, in stored order (the order they were first
    indexed): hits carry the first 20 and `n_posts`, the rest are read here."""
    return state.service.posts(image_id, offset, limit)
