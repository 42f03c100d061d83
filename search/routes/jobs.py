"""Write jobs: index (server paths or an uploaded zip), caption, OCR, topics fit/assign; queued,
one at a time, each with an id to poll for progress and the result report."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from picsift.errors import InputError
from picsift.names import check_dataset
from search import tasks
from search.deps import AppState, ReadAccess, State, WriteAccess
from search.errors import documented
from search.schemas import IndexIn, JobOut, JobsOut, TopicsIn, VariantsIn
from search.uploads import check_sources, save_zip

router = APIRouter(prefix="/api/jobs", tags=["jobs"])
SEED_MAX = 2**32 - 1  # UMAP's and numpy's random_state take no more
NR_TOPICS_MAX = 100_000
_INDEX_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": IndexIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "dataset": {"type": "string"},
                        "captions": {"type": "boolean", "default": True},
                    },
                }
            },
        },
    }
}


def has_room(state: State) -> None:
    """Refuse a job while the queue is full, before its body (maybe an upload) is read."""
    state.jobs.check_room()


Room = Depends(has_room)


async def index_spec(request: Request, state: State) -> AsyncIterator[tasks.IndexSpec]:
    """Server-side paths (JSON `IndexIn`), or a zip uploaded as multipart field `file`; an
    upload is removed again when its job is refused."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "multipart/form-data":
        yield await _paths_spec(request, kind, state)
        return
    form = await request.form(max_files=1, max_fields=10)
    upload, dataset = form.get("file"), form.get("dataset")
    if isinstance(dataset, str) and dataset:
        check_dataset(dataset)
    if upload is None or isinstance(upload, str):
        raise InputError("file: upload the zip as multipart field `file`")
    path = await run_in_threadpool(
        save_zip, upload.file, upload.filename, state.settings.data_dir, state.limits
    )
    captions = str(form.get("captions", "true")).lower() not in ("false", "0", "no", "off")
    try:
        yield tasks.IndexSpec(
            (path,), dataset if isinstance(dataset, str) and dataset else None, None, captions
        )
    except BaseException:
        shutil.rmtree(path.parent, ignore_errors=True)
        raise


async def _paths_spec(request: Request, kind: str, state: AppState) -> tasks.IndexSpec:
    if kind != "application/json":
        raise InputError(
            'content-type: send JSON {"paths": [...]} or a multipart upload with field `file`'
        )
    try:
        body = IndexIn.model_validate_json(await request.body())
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise InputError(f"{where}: {first['msg']}") from None
    if body.dataset is not None:
        check_dataset(body.dataset)
    try:
        sources = check_sources(body.paths, state.limits.index_roots)
    except (OSError, RuntimeError) as exc:
        # A name too long for the file system, `~nobody`: not paths this server has.
        reason = getattr(exc, "strerror", None) or exc
        raise InputError(f"paths: not a path on this server ({_short(reason)})") from None
    return tasks.IndexSpec(
        sources, body.dataset, body.image_column, body.captions, roots=state.limits.index_roots
    )


def check_fit(body: TopicsIn) -> None:
    """Refuse at the door what would fail a topic fit later (InputError naming the field)."""
    if not 0 <= body.seed <= SEED_MAX:
        raise InputError(f"seed: must be between 0 and 2**32 - 1 (got {_short(body.seed)})")
    if body.nr_topics is not None and body.nr_topics > NR_TOPICS_MAX:
        raise InputError(
            f"nr_topics: must be at most {NR_TOPICS_MAX:,} (got {_short(body.nr_topics)})"
        )
    if body.sample < body.min_topic_size:
        raise InputError(
            f"sample: must be at least min_topic_size ({body.min_topic_size}); got {body.sample}"
        )


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


_JOB: dict[str, Any] = {
    "response_model": JobOut,
    "status_code": 202,
    "dependencies": [WriteAccess, Room],
    "responses": documented(
        401,
        403,
        409,
        413,
        422,
        429,
        why={
            409: "An identical job is waiting (the message names its id), or the store is busy.",
            429: "PICSIFT_MAX_QUEUED_JOBS jobs wait; try after Retry-After seconds.",
        },
    ),
}


def _submit(
    state: AppState, kind: str, params: dict[str, Any], task, identity: Any
) -> dict[str, Any]:
    return state.jobs.submit(kind, params, task, identity).view()


@router.post("/index", **_JOB, openapi_extra=_INDEX_BODY)
def index(state: State, spec: Annotated[tasks.IndexSpec, Depends(index_spec)]) -> dict[str, Any]:
    """Index server-side paths or an uploaded zip (new images then get captions and topics)."""
    params = {
        "sources": [p.name for p in spec.sources],
        "dataset": spec.dataset,
        "captions": spec.captions,
    }
    task = partial(tasks.index, state.store, state.encoder, state.settings, spec)
    # An upload has a folder of its own, so only jobs on server paths can be the same.
    return _submit(state, "index", params, task, spec)


@router.post("/caption", **_JOB)
def caption(state: State) -> dict[str, Any]:
    """Caption every image that has no caption yet."""
    task = partial(tasks.caption, state.store, state.settings)
    return _submit(state, "caption", {}, task, "caption")


@router.post("/ocr", **{**_JOB, "responses": {**_JOB["responses"], **documented(503)}})
def ocr(state: State) -> dict[str, Any]:
    """Read the text in every image and video frame that has none read yet (OCR)."""
    tasks.ocr_ready(state.settings)  # refused at the door when Tesseract cannot run
    task = partial(tasks.ocr, state.store, state.settings)
    return _submit(state, "ocr", {"languages": state.settings.ocr_languages}, task, "ocr")


@router.post("/variants", **_JOB)
def variants(state: State, body: VariantsIn | None = None) -> dict[str, Any]:
    """Group every image without a variant group with the images that are the same picture
    (`again`: every image grouped anew)."""
    again = bool(body and body.again)
    task = partial(tasks.variants, state.store, state.settings, again=again)
    return _submit(state, "variants", {"again": again}, task, ("variants", again))


@router.post("/topics", **_JOB)
def topics(state: State, body: TopicsIn) -> dict[str, Any]:
    """Fit topics on all stored images (a new run), or assign images without a topic."""
    if body.action == "assign":
        task = partial(tasks.assign, state.store, state.settings)
        return _submit(state, "topics-assign", {}, task, "topics-assign")
    check_fit(body)
    params = body.model_dump(exclude={"action", "captions"})
    task = partial(tasks.fit, state.store, state.settings, params=params, captions=body.captions)
    shown = {**params, "captions": body.captions}
    return _submit(state, "topics-fit", shown, task, ("topics-fit", *shown.items()))


@router.get("", response_model=JobsOut, dependencies=[ReadAccess])
def jobs(state: State) -> dict[str, Any]:
    """Kept jobs, newest first."""
    return {"jobs": [j.view() for j in state.jobs.list()]}


@router.get(
    "/{job_id}", response_model=JobOut, dependencies=[ReadAccess], responses=documented(404)
)
def job(state: State, job_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]) -> dict[str, Any]:
    """A job's state, progress and (when done) its result report."""
    return state.jobs.get(job_id).view()
