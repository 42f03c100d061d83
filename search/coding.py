"""Qualitative coding: coders with keys of their own, a codebook per store, codes applied to
images by hand, an append-only log of every coding write, and the coders' agreement.

- A coder's key is shown once, when the coder is added; the store keeps its SHA-256 (the key
  is 32 random bytes, so a fast hash is as safe as a slow one) and never the key.
- A coding is one coder's codes for one image, the latest they gave: an image they looked at
  and left without codes is coded as seen with none ("seen, not applied"), which is what makes
  agreement computable. Every write also goes to the log, with the coder and the time.
- Agreement, per code: over the images seen by two or more coders, Krippendorff's alpha
  (nominal: applied or not, the `krippendorff` library), and the images on which they differ.

Everything lives in the store (`<collection>_coders`, `_codebook`, `_codings`, `_coding_log`),
so a server deployment shares it, and a re-embed keeps it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
import uuid
from collections import Counter
from typing import Any

import numpy as np

from picsift.errors import InputError
from picsift.names import check_text
from picsift.store import ImageStore
from picsift.store.notes import CODEBOOK, CODERS, CODINGS
from picsift.store.notes import CODING_LOG as LOG
from search.service import NotFoundError

MAX_NAME = 100
KEY_PREFIX = "psc_"
_WRITES = threading.Lock()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _name(kind: str, value: str) -> str:
    """A coder's or a code's name, stripped.

    Raises:
        InputError: naming `kind`: empty, too long, control characters.
    """
    check_text(kind, value)
    value = value.strip()
    if not value or len(value) > MAX_NAME:
        raise InputError(f"{kind}: give a name of 1 to {MAX_NAME} characters")
    return value


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def add_coder(store: ImageStore, name: str) -> str:
    """Add a coder; returns their key (shown this once: only its hash is kept).

    Raises:
        InputError: naming `name`: taken, or not a name.
    """
    name = _name("name", name)
    if "/" in name or "\\" in name:
        raise InputError(f"name: {name!r} holds a slash; a coder's name is part of URLs")
    notes = store.notes(CODERS)
    if notes.get(name) is not None:
        raise InputError(f"name: there is a coder {name!r} already")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    notes.put(name, {"name": name, "key_sha256": _digest(key), "created_at": _now()})
    return key


def coders(store: ImageStore) -> list[dict[str, Any]]:
    """The coders (name, when added, when their key was last replaced or taken away), oldest
    first; no key hashes."""
    fields = ("name", "created_at", "rekeyed_at", "revoked_at")
    found = [{k: r.get(k) for k in fields} for r in store.notes(CODERS).all()]
    return sorted(found, key=lambda c: (c["created_at"], c["name"]))


def new_key(store: ImageStore, name: str) -> str:
    """Give a coder a new key (also after a revoke); the old key and every cookie signed
    while it held stop working. Returns the key, shown this once.

    Raises:
        NotFoundError: naming `coder`.
    """
    record = _coder(store, name)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    update = {"key_sha256": _digest(key), "rekeyed_at": _now(), "revoked_at": None}
    store.notes(CODERS).put(name, record | update)
    return key


def revoke(store: ImageStore, name: str) -> None:
    """Take a coder's key away: they can no longer sign in or code (their codings and the log
    stay); `new_key` gives them one again.

    Raises:
        NotFoundError: naming `coder`.
    """
    record = _coder(store, name)
    store.notes(CODERS).put(name, record | {"key_sha256": "", "revoked_at": _now()})


def _coder(store: ImageStore, name: str) -> dict[str, Any]:
    record = store.notes(CODERS).get(name)
    if record is None:
        raise NotFoundError(f"coder: no coder {name[:MAX_NAME]!r}; add one with picsift coders add")
    record.pop("key", None)
    return record


def coder_of_key(store: ImageStore, key: str) -> str | None:
    """The coder whose key `key` is, or None."""
    if not key.startswith(KEY_PREFIX):
        return None
    digest = _digest(key)
    for record in store.notes(CODERS).all():
        if record["key_sha256"] and secrets.compare_digest(record["key_sha256"], digest):
            return record["name"]
    return None


def check_coder(store: ImageStore, name: str) -> str:
    """`name`, a coder's who may code (their key not taken away).

    Raises:
        NotFoundError: naming `coder`: no such coder.
        InputError: naming `coder`: their key was revoked.
    """
    if _coder(store, name).get("revoked_at"):
        raise InputError(f"coder: {name!r}'s key was revoked; give them a new one to code again")
    return name


def add_code(store: ImageStore, code: str, description: str = "") -> dict[str, Any]:
    """Add a code to the codebook, or change its description.

    Raises:
        InputError: naming `code` or `description`.
    """
    code = _name("code", code)
    check_text("description", description)
    notes = store.notes(CODEBOOK)
    old = notes.get(code) or {}
    record = {
        "code": code,
        "description": description,
        "created_at": old.get("created_at") or _now(),
    }
    notes.put(code, record)
    return record


def codebook(store: ImageStore) -> list[dict[str, Any]]:
    """The codes with their descriptions, in the order they were added."""
    found = [
        {k: r[k] for k in ("code", "description", "created_at")}
        for r in store.notes(CODEBOOK).all()
    ]
    return sorted(found, key=lambda c: (c["created_at"], c["code"]))


def code_image(store: ImageStore, image_id: str, coder: str, codes: list[str]) -> dict[str, Any]:
    """Record `coder`'s codes for an image (none: seen, not applied), replacing what they gave
    it before, and log the write.

    Raises:
        InputError: naming `codes`: a code not in the codebook.
        NotFoundError: naming `id` or `coder`.
    """
    check_coder(store, coder)
    image_id = stored_image(store, image_id)
    known = {c["code"] for c in codebook(store)}
    unknown = [c for c in codes if c not in known]
    if unknown:
        have = ", ".join(sorted(known)) or "none yet: add codes first (picsift codes add)"
        raise InputError(f"codes: {unknown[0][:MAX_NAME]!r} is not in the codebook ({have})")
    with _WRITES:
        return _write(store, image_id, coder, codes)


def _write(store: ImageStore, image_id: str, coder: str, codes: list[str]) -> dict[str, Any]:
    """Log a coding, then keep it as the coder's latest (one write at a time in a process, so
    the latest is always the log's last)."""
    record = {"coder": coder, "image_id": image_id, "codes": sorted(set(codes)), "at": _now()}
    # The log's order: nanoseconds since the epoch, then a random tail against ties.
    seq = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
    store.notes(LOG).put(seq, record | {"action": "coded" if codes else "seen", "seq": seq})
    store.notes(CODINGS).put(f"{coder}\n{image_id}", record)
    return record


def stored_image(store: ImageStore, image_id: str) -> str:
    """The id of a stored image, as the store writes it.

    Raises:
        InputError, NotFoundError: naming `id`: not a UUID, or no such image.
    """
    try:
        image_id = str(uuid.UUID(image_id))
    except ValueError:
        raise InputError(f"id: {image_id[:64]!r} is not an image id (a UUID)") from None
    if not store.exists or not store.images.existing([image_id]):
        raise NotFoundError(f"id: no image {image_id} in the store")
    return image_id


def codings(store: ImageStore, image_id: str | None = None) -> list[dict[str, Any]]:
    """The latest codings (of one image, or all), by coder and image."""
    found = [
        {k: r[k] for k in ("coder", "image_id", "codes", "at")}
        for r in store.notes(CODINGS).all()
        if image_id is None or r["image_id"] == image_id
    ]
    return sorted(found, key=lambda r: (r["image_id"], r["coder"]))


def log(store: ImageStore) -> list[dict[str, Any]]:
    """Every coding write, oldest first."""
    found = [{k: v for k, v in r.items() if k != "key"} for r in store.notes(LOG).all()]
    return sorted(found, key=lambda r: r["seq"])


def agreement(store: ImageStore) -> dict[str, Any]:
    """Per code, the coders' agreement over the images two or more of them saw: Krippendorff's
    alpha (nominal, applied or not; None where it is undefined: fewer than two such images, or
    every value the same) and the images they disagree on; `applied` counts every coder's
    applications, `applied_shared` those on the images the alpha is over."""
    import krippendorff

    by_image: dict[str, dict[str, set[str]]] = {}
    applied_total: Counter[str] = Counter()
    for coding in codings(store):
        by_image.setdefault(coding["image_id"], {})[coding["coder"]] = set(coding["codes"])
        applied_total.update(coding["codes"])
    shared = {i: c for i, c in by_image.items() if len(c) >= 2}
    names = sorted({coder for c in shared.values() for coder in c})
    images = sorted(shared)
    out = []
    for code in [c["code"] for c in codebook(store)]:
        data = np.full((len(names), len(images)), np.nan)
        disagreements = []
        for column, image in enumerate(images):
            given = shared[image]
            for row, coder in enumerate(names):
                if coder in given:
                    data[row, column] = float(code in given[coder])
            applied = sorted(c for c, codes in given.items() if code in codes)
            if applied and len(applied) < len(given):
                not_applied = sorted(c for c, codes in given.items() if code not in codes)
                disagreements.append(
                    {"image_id": image, "applied_by": applied, "not_applied_by": not_applied}
                )
        values = data[~np.isnan(data)]
        alpha = None
        if len(images) >= 2 and len(set(values.tolist())) > 1:
            alpha = float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
        out.append(
            {
                "code": code,
                "alpha": alpha,
                "applied": applied_total.get(code, 0),
                "applied_shared": int(values.sum()) if values.size else 0,
                "disagreements": disagreements,
            }
        )
    return {
        "images": len(images),
        "coders": names,
        "method": "Krippendorff's alpha, nominal (applied or not), per code, over the images "
        "two or more coders saw (seen without the code counts as not applied); undefined "
        "(null) with fewer than two such images or no variation",
        "codes": out,
    }
