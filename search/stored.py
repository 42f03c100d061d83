"""What a request names that lives in the store beside the images, read as it is now: a saved
selection's images (`selection`), and the images a code was applied to or a coder coded
(`code`, `coder`: each coder's latest codings). The request then filters by their ids."""

from __future__ import annotations

from dataclasses import replace

from picsift.errors import NotFoundError
from picsift.store import ImageStore
from picsift.store.notes import CODINGS, SELECTIONS
from search.query import SearchRequest


def with_stored(store: ImageStore, request: SearchRequest) -> SearchRequest:
    """The request with its saved selection's images and its coded images read from the store.

    Raises:
        NotFoundError: naming `selection`: no selection of that name.
    """
    if request.selection is not None and request.selection_ids is None:
        saved = store.notes(SELECTIONS).get(request.selection)
        if saved is None:
            raise NotFoundError(f"selection: no saved selection {request.selection[:200]!r}")
        request = replace(request, selection_ids=tuple(saved["ids"]))
    coded = request.code is not None or request.coder is not None
    if coded and request.coded_ids is None:
        ids = {
            c["image_id"]
            for c in store.notes(CODINGS).all()
            if (request.coder is None or c["coder"] == request.coder)
            and (request.code is None or request.code in c["codes"])
        }
        request = replace(request, coded_ids=tuple(sorted(ids)))
    return request
