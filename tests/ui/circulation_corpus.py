"""The corpus of the Circulation view's browser test: photo-like pictures
(tests/variant_images.py) with their variants and a look-alike, posted in two 4CAT datasets (an
image zip and a TikTok CSV each) over several weeks, some posts with engagement counts."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.variant_images import picture, variant

DAY = 86_400
MONDAY = 1_700_438_400  # 2023-11-20 00:00 UTC
DATASETS = ("a1b2c3d4e5f60718293a4b5c6d7e8f90", "0f1e2d3c4b5a69788796a5b4c3d2e1f0")
FIRST_POST = 7321692663852500001
COLUMNS = ["id", "thread_id", "author", "body", "timestamp", "unix_timestamp", "tiktok_url"]
COLUMNS += ["likes", "comments", "shares", "plays"]


@dataclass(frozen=True)
class Post:
    """A post of one image: by whom, on which day after MONDAY, in which dataset, with what
    engagement (likes, comments, shares, plays; None: the export has no counts for it)."""

    image: int  # which image of its picture (0: the original, then its variants)
    author: str
    day: int
    counts: tuple[int | str, ...] | None = None
    dataset: int = 0


# (scene, take, variants, posts): one picture each; a picture with variants is a group.
PICTURES = [
    (
        0,
        0,
        3,
        [
            Post(0, "ann", 0, (120, 8, 3, 4000)),
            Post(0, "bob", 2),
            Post(1, "cy", 8),
            Post(1, "ann", 9, (30, 1, 0, 900)),
            Post(2, "dee", 10),
            Post(3, "eve", 22, (5, 0, 1, 300), dataset=1),
            Post(3, "fay", 23, dataset=1),
            Post(2, "gus", 24),
        ],
    ),
    (
        1,
        0,
        2,
        [
            Post(0, "hal", 3, (5000, 300, 200, 90000)),
            Post(1, "ivy", 4),
            Post(2, "hal", 5, (800, 20, 10, "")),
            Post(0, "kim", 6),
            Post(1, "lu", 11),
        ],
    ),
    (1, 1, 0, [Post(0, "mo", 7, (10, 1, 1, 100))]),  # a look-alike of the picture above
    (2, 0, 1, [Post(0, "ned", 14, dataset=1), Post(1, "ola", 15, dataset=1), Post(1, "pia", 16)]),
    (3, 0, 0, [Post(0, "quin", 1, (1, 0, 0, 10))]),
]


def _jpeg(image: Any) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def _image_id(data: bytes) -> str:
    """The id the indexer gives a file: the UUID of its content hash."""
    return str(uuid.UUID(hex=hashlib.sha256(data).hexdigest()[:32]))


def write_corpus(root: Path) -> dict[str, int]:
    """Two 4CAT datasets (an image zip and a TikTok CSV each) of PICTURES; returns each image's
    id -> its picture's index in PICTURES."""
    files: list[dict[str, tuple[bytes, list[str]]]] = [{}, {}]  # per dataset: name -> file
    rows: list[list[list[str]]] = [[], []]
    pictures: dict[str, int] = {}
    n = 0
    for p, (scene, take, variants, posts) in enumerate(PICTURES):
        original = picture(scene, take)
        images = [original] + [variant(original, 100 * p + k)[0] for k in range(variants)]
        encoded = [_jpeg(image) for image in images]
        for post in posts:
            n += 1
            post_id = str(FIRST_POST + n)
            data = encoded[post.image]
            pictures[_image_id(data)] = p
            name = f"{_image_id(data)[:8]}.jpeg"
            files[post.dataset].setdefault(name, (data, []))[1].append(post_id)
            ts = MONDAY + post.day * DAY + 3600 * (n % 20)
            counts = ["" if c is None else str(c) for c in post.counts or ("", "", "", "")]
            url = f"https://www.tiktok.com/@{post.author}/video/{post_id}"
            row = [post_id, post_id, post.author, f"post {n} #farmers", "", str(ts), url]
            rows[post.dataset].append([*row, *counts])
    for d, key in enumerate(DATASETS):
        metadata = {}
        with zipfile.ZipFile(root / f"images-{d}.zip", "w") as archive:
            for name, (data, post_ids) in files[d].items():
                archive.writestr(name, data)
                metadata[f"https://cdn.example/{name}"] = {
                    "filename": name,
                    "success": True,
                    "post_ids": post_ids,
                    "from_dataset": key,
                }
            archive.writestr(".metadata.json", json.dumps(metadata))
        with (root / f"tiktok-farmers-{key}.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            writer.writerows(rows[d])
    return pictures
