"""Thumbnails in PICSIFT_DATA/thumbs, so images still show when their zip or folder moved."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PIL import Image

THUMB_SIDE = 256  # shorter side; the UI grid and the captioner (224 px) both fit in it


def thumb_path(data_dir: Path, sha256: str) -> Path:
    """Where the thumbnail of an image with this content hash lives."""
    return data_dir / "thumbs" / sha256[:2] / f"{sha256}.jpg"


def thumb_key(payload: Mapping[str, Any]) -> str | None:
    """What a point's thumbnail is named by: an image's `sha256`, a video frame's `frame_key`
    (a frame is no file: its `sha256` is empty); None when the payload has neither."""
    return payload.get("sha256") or payload.get("frame_key") or None


THUMB_FIELDS = ["sha256", "frame_key"]  # the payload keys `thumb_key` reads


def write_thumb(data_dir: Path, sha256: str, image: Image.Image) -> Path:
    """Save a JPEG thumbnail (shorter side at most THUMB_SIDE) atomically; returns its path."""
    path = thumb_path(data_dir, sha256)
    path.parent.mkdir(parents=True, exist_ok=True)
    scale = THUMB_SIDE / min(image.size)
    if scale < 1:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BICUBIC)
    tmp = path.with_suffix(".tmp")
    image.convert("RGB").save(tmp, "JPEG", quality=85)
    os.replace(tmp, path)
    return path
