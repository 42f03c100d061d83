"""Write jobs: index (server paths or an uploaded zip), caption, topics fit/assign; queued,
one at a time, each with an id to poll for progress and the result report."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from picsift.errors import InputError
from search import tasks
from search.deps import AppState, ReadAccess, State, WriteAccess
from search.query import check_dataset
from search.schemas import IndexIn, JobOut, JobsOut, TopicsIn
from search.uploads import check_sources, save_zip

router = APIRouter(prefix="/api/jobs", tags=["jobs"])
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


async def index_spec(request: Request, state: State) -> tasks.IndexSpec:
    """Server-side paths (JSON `IndexIn`), or a zip uploaded as multipart field `file`."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
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
        return tasks.IndexSpec(
            (path,), dataset if isinstance(dataset, str) and dataset else None, None, captions
        )
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
    sources = check_sources(body.paths, state.limits.index_roots)
    return tasks.IndexSpec(sources, body.dataset, body.image_column, body.captions)


def _submit(state: AppState, kind: str, params: dict[str, Any], task) -> dict[str, Any]:
    return state.jobs.submit(kind, params, task).view()


@router.post(
    "/index",
    response_model=JobOut,
    status_code=202,
    dependencies=[WriteAccess],
    openapi_extra=_INDEX_BODY,
)
def index(state: State, spec: Annotated[tasks.IndexSpec, Depends(index_spec)]) -> dict[str, Any]:
    """Index server-side paths or an uploaded zip (new images then get captions and topics)."""
    params = {
        "sources": [p.name for p in spec.sources],
        "dataset": spec.dataset,
        "captions": spec.captions,
    }
    task = partial(tasks.index, state.store, state.encoder, state.settings, spec)
    return _submit(state, "index", params, task)


@router.post("/caption", response_model=JobOut, status_code=202, dependencies=[WriteAccess])
def caption(state: State) -> dict[str, Any]:
    """Caption every image that has no caption yet."""
    return _submit(state, "caption", {}, partial(tasks.caption, state.store, state.settings))


@router.post("/topics", response_model=JobOut, status_code=202, dependencies=[WriteAccess])
def topics(state: State, body: TopicsIn) -> dict[str, Any]:
    """Fit topics on all stored images (a new run), or assign images without a topic."""
    if body.action == "assign":
        task = partial(tasks.assign, state.store, state.settings)
        return _submit(state, "topics-assign", {}, task)
    params = body.model_dump(exclude={"action", "captions"})
    task = partial(tasks.fit, state.store, state.settings, params=params, captions=body.captions)
    return _submit(state, "topics-fit", {**params, "captions": body.captions}, task)


@router.get("", response_model=JobsOut, dependencies=[ReadAccess])
def jobs(state: State) -> dict[str, Any]:
    """Kept jobs, newest first."""
    return {"jobs": [j.view() for j in state.jobs.list()]}


@router.get("/{job_id}", response_model=JobOut, dependencies=[ReadAccess])
def job(state: State, job_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]) -> dict[str, Any]:
    """A job's state, progress and (when done) its result report."""
    return state.jobs.get(job_id).view()
