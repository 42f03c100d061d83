"""Saved selections: a set of images kept under a name, to reopen, search within, export and
share by URL (`selection=NAME`).

A selection is made from a search view (query, filters, cut: its images are resolved as the
export resolves them) or from image ids the client holds (a list of similar images, an
uploaded-image search, a box or lasso on the map, a hand-picked set). Either way its images are
frozen when it is saved, in the view's order, with how the view was made (`view`), by whom and
when, and the model of the store: new scrapes do not change what a published selection holds.
Images removed from the store since are counted, never silently dropped from what it says.
Selections live in the store (`<collection>_selections`), so a server deployment shares them
and a re-embed keeps them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

from picsift.errors import InputError
from picsift.names import check_text
from picsift.store import ImageStore
from search.export import MAX_RANKED, checked, selected
from search.query import SearchRequest
from search.service import BROWSE_ORDER, NotFoundError, SearchService

Source = Literal["search", "similar", "upload", "map", "picked"]
SOURCES = get_args(Source)
KIND = "selections"
MAX_NAME = 200
MAX_DESCRIPTION = 2000
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass
class Selection:
    """A saved set of images and how it was made."""

    name: str
    source: Source
    ids: list[str]  # the images, in the view's order, as they were when saved
    view: dict[str, Any] = field(default_factory=dict)  # how: the request, the image, the box
    description: str = ""
    created_at: str = ""  # when it was first saved (kept when it is replaced)
    saved_at: str = ""  # when this version was saved
    created_by: str = ""
    model: str | None = None
    store_images: int = 0  # images in the store when it was saved
    ids_sha256: str = ""  # of its ids in order (one a line): what an export was kept to
    version: int = 1  # 1, then one more each time it is replaced

    def summary(self, present: int | None = None) -> dict[str, Any]:
        """What a list shows of it (`present`: how many of its images are in the store now)."""
        out = {k: v for k, v in asdict(self).items() if k not in ("ids", "view")}
        return out | {"images": len(self.ids), "present": present}


def check_name(name: str) -> str:
    """The selection name, stripped.

    Raises:
        InputError: naming `name`: empty, over `MAX_NAME` characters, or control characters.
    """
    check_text("name", name)
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise InputError(f"name: give a selection a name of 1 to {MAX_NAME} characters")
    if "/" in name or "\\" in name:
        raise InputError(f"name: {name!r} holds a slash; a selection's name is part of its URL")
    return name


def save(
    service: SearchService,
    name: str,
    source: Source,
    *,
    request: SearchRequest | None = None,
    limit: int | None = None,
    ids: list[str] | None = None,
    view: dict[str, Any] | None = None,
    description: str = "",
    created_by: str = "admin",
    replace: bool = False,
) -> Selection:
    """Save a selection: the images of `request` (source "search": its query, filters and cut,
    resolved as an export resolves them; a ranking needs `limit` and/or `min_score`), or the
    `ids` given (the other sources), with `view` saying how they were chosen.

    Raises:
        InputError: naming the parameter: a bad name or source, a name taken (without
            `replace`), no images, over `MAX_RANKED`, ids that are not in the store, a
            ranking without a cut.
    """
    name = check_name(name)
    if source not in SOURCES:
        raise InputError(f"source: one of {', '.join(SOURCES)}, got {source!r}")
    check_text("description", description)
    if len(description) > MAX_DESCRIPTION:
        raise InputError(f"description: over {MAX_DESCRIPTION:,} characters")
    store = service.store
    notes = store.notes(KIND)
    old = notes.get(name)
    if old is not None and not replace:
        raise InputError(f"name: a selection {name!r} exists; delete it or save with replace")
    if source == "search":
        if request is None or ids is not None:
            raise InputError("ids: a search selection is made from its query and filters")
        chosen, view = _from_search(service, request, limit)
    else:
        if ids is None or request is not None:
            raise InputError(f"ids: a {source} selection needs the ids of its images")
        chosen, view = _checked_ids(store, ids), dict(view or {})
    if not chosen:
        raise InputError("ids: the selection holds no images; a saved selection needs some")
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    made = Selection(
        name=name,
        source=source,
        ids=chosen,
        view=view,
        description=description,
        created_at=(old or {}).get("created_at") or now,
        saved_at=now,
        created_by=created_by,
        model=store.meta.model if store.meta else None,
        store_images=store.images.count() if store.exists else 0,
        ids_sha256=hashlib.sha256("\n".join(chosen).encode()).hexdigest(),
        version=(old or {}).get("version", 0) + 1,
    )
    notes.put(name, asdict(made))
    return made


def _from_search(
    service: SearchService, request: SearchRequest, limit: int | None
) -> tuple[list[str], dict[str, Any]]:
    """The images of a search view, in its order (at most `MAX_RANKED`), and its description."""
    request = checked(service, request, limit)
    if request.terms or request.group_by:
        ids = [hit.id for _, hit in selected(service, request, limit or MAX_RANKED + 1)]
    else:  # as the grid lists them: newest first
        flt = request.to_filter()
        newest = service.store.images.newest(
            BROWSE_ORDER, flt, limit=limit or MAX_RANKED + 1, with_payload=False
        )
        ids = [record.id for record in newest]
    if len(ids) > MAX_RANKED:
        raise InputError(
            f"limit: the view holds over {MAX_RANKED:,} images, the most a selection holds; "
            "narrow the filters, raise min_score or give a limit"
        )
    view = {"request": request.describe(), "params": request.to_params(page=False)}
    return ids, view | ({"limit": limit} if limit else {})


def _checked_ids(store: ImageStore, ids: list[str]) -> list[str]:
    """The ids, repeats dropped (first place kept), each a stored image's."""
    ids = list(dict.fromkeys(str(i).strip().lower() for i in ids))
    if len(ids) > MAX_RANKED:
        raise InputError(f"ids: {len(ids):,} images, over the {MAX_RANKED:,} a selection holds")
    bad = [i for i in ids if not _UUID.fullmatch(i)]
    if bad:
        raise InputError(f"ids: {bad[0][:64]!r} is not an image id (a UUID)")
    found = set()
    for start in range(0, len(ids), 1000):
        found |= store.images.existing(ids[start : start + 1000]) if store.exists else set()
    missing = [i for i in ids if i not in found]
    if missing:
        raise InputError(
            f"ids: {len(missing):,} of the images are not in the store, e.g. {missing[0]}"
        )
    return ids


def load(store: ImageStore, name: str) -> Selection:
    """The selection `name`.

    Raises:
        NotFoundError: there is none.
    """
    record = store.notes(KIND).get(name)
    if record is None:
        raise NotFoundError(f"selection: no selection {name[:MAX_NAME]!r} in the store")
    record.pop("key", None)
    return Selection(**record)


def listed(store: ImageStore) -> list[dict[str, Any]]:
    """Every selection's summary, newest first, with how many of its images are still there."""
    out = []
    for record in store.notes(KIND).all():
        record.pop("key", None)
        selection = Selection(**record)
        out.append(selection.summary(present(store, selection)))
    return sorted(out, key=lambda s: (s["created_at"], s["name"]), reverse=True)


def present(store: ImageStore, selection: Selection) -> int:
    """How many of the selection's images are in the store now."""
    if not store.exists:
        return 0
    ids = selection.ids
    return sum(len(store.images.existing(ids[i : i + 1000])) for i in range(0, len(ids), 1000))


def delete(store: ImageStore, name: str) -> None:
    """Delete the selection `name`.

    Raises:
        NotFoundError: there is none.
    """
    if not store.notes(KIND).delete(name):
        raise NotFoundError(f"selection: no selection {name[:MAX_NAME]!r} in the store")
