"""What text search reads of an image, and its BM25 vectors.

An image's text is what it says and what was said with it: the text read in it (OCR), its
caption, and its posts' bodies, hashtags and audio transcripts (a table column whose name has
"transcri" in it: 4CAT's `Audio transcription` annotation, the seed corpus' `Transcript`).
Each part is kept once however many posts repeat it, in that order, up to `MAX_CHARS`.

Vectors come from Qdrant Edge's own BM25 (`qdrant_edge.Bm25`: tokens, stop words and stems of
one language, hashed to token ids, weighted by term frequency and length), one per language of
the store, on both backends; the engine adds IDF at query time. A query is embedded by the same
models, so a word matches its stem's other forms (Traktor, Traktoren).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from picsift.store.records import SparseVector
from picsift.store.schema import text_vector_name

MAX_CHARS = 100_000  # of one image's text; past it the rest is left out (and said so)
# BM25's term-frequency saturation and length normalisation, and the length it normalises to
# (short social-media texts: a post body and a caption are some tens of words).
K1, B, AVG_LEN = 1.2, 0.75, 64.0
PARTS = ("ocr", "caption", "body", "hashtags", "transcript")
# What the text phase reads of each point (posts' `extra` holds the table's other columns).
FIELDS = ["ocr.text", "caption", "posts[].body", "posts[].hashtags", "posts[].extra", "text_sha"]
_WORD = re.compile(r"\w+", re.UNICODE)
NO_TEXT_VECTORS = (
    "text search: this store was made before it (schema 1); `picsift store migrate` gives "
    "it text vectors"
)


@dataclass(frozen=True)
class ImageText:
    """An image's text by part (see `PARTS`), each a list of distinct pieces in order."""

    parts: dict[str, list[str]]
    truncated: bool = False

    @property
    def text(self) -> str:
        """All parts as one text, as it is embedded."""
        return "\n".join(piece for part in PARTS for piece in self.parts.get(part, []))


def image_text(payload: Mapping[str, Any]) -> ImageText:
    """The text of a stored image (payload with `FIELDS`)."""
    posts = payload.get("posts") or []
    transcripts = [
        str(value)
        for post in posts
        for key, value in (post.get("extra") or {}).items()
        if "transcri" in key.lower() and value
    ]
    hashtags = [" ".join(str(tag) for tag in post.get("hashtags") or []) for post in posts]
    raw = {
        "ocr": [(payload.get("ocr") or {}).get("text") or ""],
        "caption": [payload.get("caption") or ""],
        "body": [str(post.get("body") or "") for post in posts],
        "hashtags": hashtags,
        "transcript": transcripts,
    }
    parts: dict[str, list[str]] = {}
    left, truncated = MAX_CHARS, False
    for part in PARTS:
        kept = []
        for piece in dict.fromkeys(p.strip() for p in raw[part]):
            if not piece:
                continue
            if len(piece) > left:
                truncated = True
                piece = piece[:left]
            if piece:
                kept.append(piece)
                left -= len(piece)
        if kept:
            parts[part] = kept
    return ImageText(parts, truncated)


class Bm25Texts:
    """The BM25 models of a store's text languages: documents and queries to sparse vectors
    (by vector name), and which words of a text a query matched."""

    def __init__(self, languages: Iterable[str]):
        import qdrant_edge as qe

        self.languages = tuple(languages)
        self._models = {
            text_vector_name(lang): qe.Bm25(
                qe.Bm25Config(k=K1, b=B, avg_len=AVG_LEN, language=lang)
            )
            for lang in self.languages
        }

    def document(self, text: str) -> dict[str, SparseVector]:
        """The text's vector in each language (empty when it has no word left to count)."""
        return {name: _plain(model.embed_document(text)) for name, model in self._models.items()}

    def query(self, text: str) -> dict[str, SparseVector]:
        """The query's vector in each language (each of its tokens once), without its words
        that are stop words in any of the languages: "the" is a word to German's BM25 and
        "die" to English's, and would match every text of the other language."""
        words = [
            word
            for word in _WORD.findall(text)
            if all(model.embed_query(word).indices for model in self._models.values())
        ]
        kept = " ".join(words)
        return {name: _plain(model.embed_query(kept)) for name, model in self._models.items()}

    def matched_words(self, query: Mapping[str, SparseVector], text: str) -> list[str]:
        """The words of `text` that a query matched in any language (stem to stem), each
        once, in order of appearance."""
        wanted = {name: set(vector.indices) for name, vector in query.items()}
        found: dict[str, None] = {}
        for word in dict.fromkeys(_WORD.findall(text)):
            for name, model in self._models.items():
                if wanted.get(name) and wanted[name] & set(model.embed_query(word).indices):
                    found[word] = None
                    break
        return list(found)


def text_sha(text: ImageText, languages: Iterable[str]) -> str:
    """What a point's text vectors were made from: its text, the languages and BM25's
    parameters (a change of any makes them stale)."""
    made_with = f"{','.join(languages)}|{K1}|{B}|{AVG_LEN}|{MAX_CHARS}\n"
    return hashlib.sha256((made_with + text.text).encode()).hexdigest()


def _plain(vector: Any) -> SparseVector:
    return SparseVector(tuple(vector.indices), tuple(float(v) for v in vector.values))
