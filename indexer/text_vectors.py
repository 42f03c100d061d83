"""Text vectors: every image and frame whose text (`picsift.text.image_text`: OCR, caption,
posts' bodies, hashtags, transcripts) changed since its BM25 vectors were made, or that has
none, gets them anew. What they were made from is kept as `text_sha`, so a run that changed
nothing writes nothing, and a run cut short is finished by the next."""

from __future__ import annotations

from picsift.progress import Progress
from picsift.store import ImageStore
from picsift.text import FIELDS, Bm25Texts, image_text, text_sha

PAGE = 256


def text_vectors(store: ImageStore, *, progress: Progress | None = None) -> int:
    """Make the text vectors of every point whose text changed (the store's languages).

    Returns:
        How many points got new vectors.
    """
    languages = store.meta.text_languages if store.meta else ()
    texts = Bm25Texts(languages)
    total = store.images.count()
    written = 0
    vectors, payloads = [], []

    def flush() -> None:
        nonlocal written
        store.images.set_sparse(vectors)
        store.images.set_payloads(payloads)
        written += len(vectors)
        vectors.clear()
        payloads.clear()

    # Scrolled in id order with no filter: writing `text_sha` does not move the pages.
    for seen, record in enumerate(store.images.scroll(with_payload=FIELDS, page_size=PAGE), 1):
        text = image_text(record.payload)
        sha = text_sha(text, languages)
        if record.payload.get("text_sha") != sha:
            vectors.append((record.id, texts.document(text.text)))
            payloads.append((record.id, {"text_sha": sha, "text_truncated": text.truncated}))
            if len(vectors) >= PAGE:
                flush()
        if progress and (seen % PAGE == 0 or seen == total):
            progress("text", seen, total)
    flush()
    return written
