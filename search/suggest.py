"""Zero-shot code suggestions for a coder's view: the codebook's codes whose text the image
stands out for, calibrated as `picsift tag` is (each code its own edge: see
`picsift.relevance`). They are suggestions: never stored as a coding, never counted as a coder.
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np

from picsift.errors import InputError, NotFoundError
from picsift.models.tagging import calibrated_tags
from picsift.relevance import MIN_IMAGES, label_edges
from search.coding import codebook
from search.service import SearchService


def suggestions(service: SearchService, image_id: str) -> dict[str, Any]:
    """The codes an image stands out for, largest margin above the code's edge first; each
    code is read as its description (or, without one, its name).

    Raises:
        InputError, NotFoundError: naming `id`.
    """
    store = service.store
    try:
        image_id = str(uuid.UUID(image_id))
    except ValueError:
        raise InputError(f"id: {image_id[:64]!r} is not an image id (a UUID)") from None
    found = store.images.retrieve([image_id], with_payload=False, with_vectors=True)
    if not found or found[0].vector is None:
        raise NotFoundError(f"id: no image {image_id} in the store")
    codes = codebook(store)
    texts = [c["description"].strip() or c["code"] for c in codes]
    answer: dict[str, Any] = {
        "image_id": image_id,
        "suggestions": [],
        "read_as": dict(zip((c["code"] for c in codes), texts, strict=True)),
        "note": "suggestions, not codings: never stored as a coding or counted as a coder",
    }
    if not codes:
        return answer | {"why": "the codebook is empty"}
    sample, null = service.matches.calibration()
    if null is None:
        return answer | {
            "why": f"the store has fewer than {MIN_IMAGES} images to calibrate the codes' edges on"
        }
    vectors = service.texts(tuple(texts))
    edges = label_edges(null, sample, vectors)
    image = np.asarray(found[0].vector, np.float32)[None, :]
    names = [c["code"] for c in codes]
    best = calibrated_tags(image, vectors, names, edges, top_k=len(names))[0]
    edge_of = dict(zip(names, edges.tolist(), strict=True))
    return answer | {
        "suggestions": [
            {"code": code, "margin": round(margin, 4), "edge": round(edge_of[code], 4)}
            for code, margin in best
        ],
        "method": null.describe(),
    }
