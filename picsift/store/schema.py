"""What the store records about itself, and which payload fields are indexed."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

# 1: dense image vectors; 2: and a sparse BM25 vector of each image's text per language
# (`text_vector_name`), which `ImageStore.add_text_vectors` adds to a store of version 1.
SCHEMA_VERSION = 2
DEFAULT_TEXT_LANGUAGES = ("german", "english")
# int8 quantization maps this central share of each dimension's values onto 256 levels; the
# extremes beyond it are clipped (rescoring with the original vectors repairs the order).
INT8_QUANTILE = 0.99
# Quantized search fetches this many times the asked-for hits, then rescores them with the
# original vectors: int8 alone misorders near-ties (recall@10 about 0.94 on CLIP-like vectors).
# Without quantization the engine ignores it.
INT8_OVERSAMPLING = 2.0


class IndexKind(StrEnum):
    """Payload index types picsift uses (a subset of Qdrant's)."""

    KEYWORD = "keyword"
    INTEGER = "integer"
    FLOAT = "float"
    BOOL = "bool"
    TEXT = "text"


IMAGE_INDEXES: dict[str, IndexKind] = {
    "sha256": IndexKind.KEYWORD,
    "datasets": IndexKind.KEYWORD,
    "posts[].dataset": IndexKind.KEYWORD,
    "posts[].post_id": IndexKind.KEYWORD,
    "posts[].author": IndexKind.KEYWORD,
    "posts[].hashtags": IndexKind.KEYWORD,
    "posts[].ts": IndexKind.INTEGER,
    "posts[].body": IndexKind.TEXT,
    "first_seen": IndexKind.INTEGER,
    "n_posts": IndexKind.INTEGER,
    "engagement": IndexKind.INTEGER,
    "engagement_posts": IndexKind.INTEGER,
    "caption": IndexKind.TEXT,
    "ocr.text": IndexKind.TEXT,
    "tags": IndexKind.KEYWORD,
    "topic": IndexKind.INTEGER,
    "topic_run": IndexKind.KEYWORD,
    "missing": IndexKind.BOOL,
    "video_id": IndexKind.KEYWORD,
    "video_sha256": IndexKind.KEYWORD,
    "frame_index": IndexKind.INTEGER,
    "frame_time": IndexKind.FLOAT,
    "variant": IndexKind.KEYWORD,
    "variant_size": IndexKind.INTEGER,
    "phash_bands": IndexKind.KEYWORD,
}

TOPIC_INDEXES: dict[str, IndexKind] = {
    "topic": IndexKind.INTEGER,
    "run": IndexKind.KEYWORD,
}


def vector_name(model_id: str) -> str:
    """Name of the named vector for `model_id` (`sentence-transformers/clip-ViT-B-32` ->
    `clip-ViT-B-32`), so vectors of two models never share one space."""
    tail = model_id.rstrip("/\\").replace("\\", "/").split("/")[-1]
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", tail) or "default"


def text_vector_name(language: str) -> str:
    """Name of the sparse BM25 vector of the images' text in `language` (`bm25-german`)."""
    return f"bm25-{language}"


@dataclass(frozen=True)
class StoreMeta:
    """Recorded with the image collection: what made the vectors."""

    model: str
    dim: int
    vector_name: str
    schema_version: int = SCHEMA_VERSION
    created_at: str = ""
    # The languages of the text vectors (schema 2; empty: a store without them).
    text_languages: tuple[str, ...] = ()

    @property
    def text_vectors(self) -> dict[str, str]:
        """Sparse vector name -> its language."""
        return {text_vector_name(lang): lang for lang in self.text_languages}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form."""
        return asdict(self) | {"text_languages": list(self.text_languages)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoreMeta:
        """Inverse of `to_dict`; unknown keys (from newer versions) are ignored."""
        names = set(cls.__dataclass_fields__)
        known = {k: v for k, v in data.items() if k in names}
        known["text_languages"] = tuple(known.get("text_languages") or ())
        return cls(**known)
