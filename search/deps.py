"""What routes depend on: the app's state, access checks, and the shared search parameters."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Query, Request

from picsift.settings import Settings
from picsift.store import ImageStore
from search.errors import BusyError, UnauthorizedError, documented
from search.jobs import JobQueue
from search.query import MAX_LIMIT, GroupBy, Mode, SearchRequest, Sort
from search.service import SearchService
from search.sessions import ReadSessions
from search.topic_map import TopicMaps
from search.uploads import Limits
from search.writelock import WriteLock

if TYPE_CHECKING:
    from picsift.models.protocols import Encoder

WRITE_WAIT_S = 5.0
# With closed reads, <img> tags cannot send the key: a browser that showed the key once gets
# this cookie (HttpOnly, SameSite=Strict) holding a session id, which opens reads only.
READ_COOKIE = "picsift_read"


@dataclass
class AppState:
    """Everything the routes share; made once in the app's lifespan."""

    settings: Settings
    store: ImageStore
    encoder: Encoder
    service: SearchService
    jobs: JobQueue
    write_lock: WriteLock
    limits: Limits
    sessions: ReadSessions | None = None
    maps: TopicMaps = field(default_factory=TopicMaps)
    generation: int = 0
    ready: bool = False
    status_cache: tuple[Any, dict[str, Any]] | None = None

    def changed(self) -> None:
        """The store's topics or images changed: drop what was cached from them."""
        self.generation += 1
        self.service.invalidate()


def get_state(request: Request) -> AppState:
    """The app's state (set by the lifespan)."""
    return request.app.state.picsift


State = Annotated[AppState, Depends(get_state)]


def check_key(request: Request, state: AppState, what: str) -> None:
    """Raise UnauthorizedError (naming `what`) unless the request carries the API key as a
    bearer token; nothing to check when no key is set."""
    key = state.settings.api_key
    if key is None:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(
        token.strip().encode(), key.get_secret_value().encode()
    ):
        raise UnauthorizedError(
            f"authorization: {what} need the API key (header `Authorization: Bearer KEY`, "
            "the server's PICSIFT_API_KEY)"
        )


def require_read(request: Request, state: State) -> None:
    """Reads are open unless PICSIFT_PUBLIC_READ=false; then they need the API key or the
    read cookie that `POST /api/session` sets."""
    if state.settings.public_read:
        return
    if state.sessions is not None and state.sessions.valid(request.cookies.get(READ_COOKIE, "")):
        return
    check_key(request, state, "reads on this server")


def require_write(request: Request, state: State) -> None:
    """Writes need the API key when PICSIFT_API_KEY is set."""
    check_key(request, state, "writes")


ReadAccess = Depends(require_read)
WriteAccess = Depends(require_write)


class WriteSlot:
    """Holds the store's write lock for a quick write (rename, merge) in a route."""

    def __init__(self, state: AppState):
        self.state = state

    def __enter__(self) -> WriteSlot:
        if not self.state.write_lock.acquire(timeout=WRITE_WAIT_S):
            running = [j.kind for j in self.state.jobs.list() if j.state == "running"]
            raise BusyError(
                f"a {running[0] if running else 'write'} job is writing to the store; "
                "try again when it is done (GET /api/jobs)"
            )
        return self

    def __exit__(self, *exc: object) -> None:
        self.state.changed()
        self.state.write_lock.release()


# What the checks in `SearchRequest.validate` refuse, said in the schema (their own messages
# stay the answers): no blank values, and a dataset name holds no path.
_NOT_BLANK: dict[str, Any] = {"items": {"type": "string", "pattern": r"\S"}}
_DATASET: dict[str, Any] = {"items": {"type": "string", "pattern": r"^[^/\\]*[^\s/\\][^/\\]*$"}}


def search_filters(
    q: Annotated[list[str] | None, Query(description="Text query (terms add up).")] = None,
    not_: Annotated[
        list[str] | None, Query(alias="not", description="Terms to subtract (rclip-style).")
    ] = None,
    text: Annotated[
        str | None, Query(description="Words in the caption, post text or hashtags.")
    ] = None,
    topic: Annotated[list[int] | None, Query(description="Only these topics.")] = None,
    exclude_topic: Annotated[list[int] | None, Query(description="Not these topics.")] = None,
    dataset: Annotated[
        list[str] | None, Query(description="Only these datasets.", json_schema_extra=_DATASET)
    ] = None,
    author: Annotated[
        list[str] | None, Query(description="Only posts by these.", json_schema_extra=_NOT_BLANK)
    ] = None,
    tag: Annotated[
        list[str] | None,
        Query(description="Only images with these tags.", json_schema_extra=_NOT_BLANK),
    ] = None,
    date_from: Annotated[str | None, Query(description="Posts from (YYYY-MM-DD).")] = None,
    date_to: Annotated[str | None, Query(description="Posts until (YYYY-MM-DD).")] = None,
    has_caption: Annotated[bool | None, Query(description="With / without caption.")] = None,
    variant: Annotated[
        str | None,
        Query(description="Only the images of this variant group (an image's `variant`)."),
    ] = None,
    selection: Annotated[
        str | None,
        Query(max_length=200, description="Only the images of this saved selection (its name)."),
    ] = None,
    code: Annotated[
        str | None,
        Query(max_length=100, description="Only the images a coder applied this code to."),
    ] = None,
    coder: Annotated[
        str | None,
        Query(
            max_length=100,
            description="Only the images this coder coded (with `code`: applied it to).",
        ),
    ] = None,
) -> SearchRequest:
    """The query terms and filters shared by search, similar, image search and export."""
    return SearchRequest.from_options(
        q=q,
        not_=not_,
        text=text,
        topic=topic,
        exclude_topic=exclude_topic,
        dataset=dataset,
        author=author,
        tag=tag,
        date_from=date_from,
        date_to=date_to,
        has_caption=has_caption,
        variant=variant,
        selection=selection,
        code=code,
        coder=coder,
    )


Filters = Annotated[SearchRequest, Depends(search_filters)]
# What a route with the filters may answer when `selection` names none.
NO_SELECTION = documented(404, why={404: "No saved selection of that name (`selection`)."})


MinScore = Annotated[
    float | None,
    Query(
        description="Leave out hits scoring below this (needs a query): the cosine (-1..1) in "
        "image mode, the BM25 score (0 or more) in text mode; hybrid mode has none.",
    ),
]
SearchMode = Annotated[
    Mode | None,
    Query(
        description="What a text query ranks by: the image (CLIP, cosine), the images' text "
        "(OCR, caption, posts' bodies, hashtags, transcripts: BM25), or both fused by rank. "
        "Left out: hybrid where the store's images have text and no min_score is given, image "
        "otherwise (the response's `mode` says which)."
    ),
]


def search_request(
    filters: Filters,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Hits per page.")] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="Hits to skip.")] = 0,
    group_by: Annotated[
        GroupBy | None,
        Query(description="At most one hit per post, per author or per video (its best frame)."),
    ] = None,
    min_score: MinScore = None,
    mode: SearchMode = None,
    sort: Annotated[
        Sort | None,
        Query(
            description="engagement: most engaged first (likes, comments and shares summed "
            "over an image's posts; `engagement_posts` says over how many). A ranking is "
            "sorted within its end: needs min_score, or mode=text. Left out: by score, or "
            "newest first without q."
        ),
    ] = None,
) -> SearchRequest:
    """Query, filters and the page of hits."""
    return replace(
        filters,
        limit=limit,
        offset=offset,
        group_by=group_by,
        min_score=min_score,
        mode=mode,
        sort=sort,
    )


Search = Annotated[SearchRequest, Depends(search_request)]
