"""What shows a topic to a person: representative images (MMR), a short label, a collage."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from picsift.thumbs import thumb_path

N_REPRESENTATIVES = 9
CANDIDATES = 500  # as BERTopic: representatives come from the topic's most central images
DIVERSITY = 0.3
TILE = 200
LABEL_WORDS = 3
_EMPTY_TILE = (235, 235, 235)


def centroid(vectors: np.ndarray) -> np.ndarray:
    """The unit mean direction of unit vectors (any unit vector when they cancel out)."""
    mean = vectors.mean(axis=0) if len(vectors) else np.zeros(0, np.float32)
    norm = float(np.linalg.norm(mean))
    if norm < 1e-12:
        mean = np.zeros(vectors.shape[1], np.float32)
        mean[0] = 1.0
        return mean
    return (mean / norm).astype(np.float32)


def mmr(vectors: np.ndarray, k: int = N_REPRESENTATIVES, diversity: float = DIVERSITY) -> list[int]:
    """Maximal marginal relevance: `k` rows close to the centre and unlike each other.

    Returns:
        Row indices into `vectors`, the most central first.
    """
    if not len(vectors):
        return []
    relevance = vectors @ centroid(vectors)
    pool = np.argsort(-relevance, kind="stable")[:CANDIDATES]
    chosen = [int(pool[0])]
    closest = vectors[pool] @ vectors[pool[0]]
    while len(chosen) < min(k, len(pool)):
        score = (1 - diversity) * relevance[pool] - diversity * closest
        score[np.isin(pool, chosen)] = -np.inf
        best = int(pool[int(np.argmax(score))])
        chosen.append(best)
        closest = np.maximum(closest, vectors[pool] @ vectors[best])
    return chosen


def no_words_label(topic: int) -> str:
    """The label of a topic whose images have no caption or tags yet: it says so, because a
    bare number reads like a name, and `picsift topics relabel` replaces it once words come."""
    return f"topic {topic} (no words yet)"


def auto_label(topic: int, keywords: Sequence[str], docs: Sequence[str] = ()) -> str:
    """A short label from the topic's top words (`no_words_label` when it has none).

    With the topic's documents (captions and tags), only words that at least half of them
    share go into the label: c-TF-IDF ranks a word that a few wrong captions bring in
    ("circle" in a topic of green triangles) as high as a shared one. The keywords keep them.
    """
    words = [w for w in keywords if w]
    texts = [set(re.findall(r"\w+", d.lower())) for d in docs if d and d.strip()]
    if texts:
        shared = [w for w in words if sum(w.lower() in t for t in texts) * 2 >= len(texts)]
        words = shared or words[:1]
    words = words[:LABEL_WORDS]
    return ", ".join(words) if words else no_words_label(topic)


def _tile(path: Path | None) -> Image.Image:
    if path is not None and path.is_file():
        try:
            with Image.open(path) as img:
                return ImageOps.fit(img.convert("RGB"), (TILE, TILE))
        except OSError:
            pass  # a damaged thumbnail shows as an empty tile, like a missing one
    return Image.new("RGB", (TILE, TILE), _EMPTY_TILE)


def write_collage(data_dir: Path, thumbs: Sequence[str | None], out: Path) -> Path:
    """A 3-column grid of the representatives' thumbnails, as the seed's `Visual_Aspect`.

    Images without a thumbnail get an empty tile, so the grid keeps its shape.
    """
    tiles = [_tile(thumb_path(data_dir, key) if key else None) for key in thumbs] or [_tile(None)]
    columns = min(3, len(tiles))
    rows = -(-len(tiles) // columns)
    sheet = Image.new("RGB", (columns * TILE, rows * TILE), (255, 255, 255))
    for i, tile in enumerate(tiles):
        sheet.paste(tile, ((i % columns) * TILE, (i // columns) * TILE))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    sheet.save(tmp, "JPEG", quality=85)
    os.replace(tmp, out)
    return out
