"""What a request names that lives in the store beside the images, read as it is now: a saved
selection's images (`selection`), and the images a code was applied to or a coder coded
(`code`, `coder`: each coder's latest codings). The request then filters by their ids."""

from __future__ import annotations

from dataclasses import replace

from picsift.errors import NotFoundError
from picsift.store import Filter, HasId, ImageStore
from picsift.store.notes import CODEBOOK, CODERS, CODINGS, SELECTIONS
from search.query import SearchRequest

BATCH = 1000


def with_stored(store: ImageStore, request: SearchRequest) -> SearchRequest:
    """The request with its saved selection's images and its coded images read from the store.

    Raises:
        NotFoundError: naming `selection`, `code` or `coder`: none of that name (a typo would
            otherwise select nothing, and an export be empty without a word).
    """
    if request.selection is not None and request.selection_ids is None:
        saved = store.notes(SELECTIONS).get(request.selection)
        if saved is None:
            raise NotFoundError(f"selection: no saved selection {request.selection[:200]!r}")
        request = replace(request, selection_ids=tuple(saved["ids"]))
    coded = request.code is not None or request.coder is not None
    if coded and request.coded_ids is None:
        if request.code is not None and store.notes(CODEBOOK).get(request.code) is None:
            raise NotFoundError(f"code: no code {request.code[:100]!r} in the codebook")
        if request.coder is not None and store.notes(CODERS).get(request.coder) is None:
            raise NotFoundError(f"coder: no coder {request.coder[:100]!r}")
        ids = {
            c["image_id"]
            for c in store.notes(CODINGS).all()
            if (request.coder is None or c["coder"] == request.coder)
            and (request.code is None or request.code in c["codes"])
        }
        request = replace(request, coded_ids=tuple(sorted(ids)))
    return request


def in_saved_order(store: ImageStore, ids: tuple[str, ...], flt: Filter | None) -> list[str]:
    """The ids of a saved selection that `flt` (which holds them) matches, in the saved order."""
    base, out = flt or Filter(), []
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        both = Filter((*base.must, HasId(batch)), base.should, base.must_not)
        found = {r.id for r in store.images.scroll(both, with_payload=False, page_size=BATCH)}
        out += [i for i in batch if i in found]
    return out
