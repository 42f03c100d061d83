"""Every stored image embedded again with another model (`picsift reembed`), into the store's
staging collection (`ImageStore.staging`), each with its payload copied.

An image is embedded from its original file while its bytes still hash to the image's SHA-256,
decoded as `picsift index` decodes it; a video frame from its video, checked the same way.
Failing that, from its thumbnail (256 px, what the index embedded at most anyway for frames),
and the report counts those. Images neither can give are listed and left out: the caller
decides whether the store may switch without them. Resumable: images already in the staging
collection (a run cut short) are not embedded again, but their payloads are copied again, and
images removed from the store meanwhile leave it (`settle`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from indexer.pictures import FIELDS, Read, original_bytes, pictures
from indexer.reader import read_item
from picsift.models.decode import Source
from picsift.models.protocols import Encoder
from picsift.progress import Progress
from picsift.store import Filter, ImageStore, IsEmpty, PointData, Record
from picsift.thumbs import THUMB_SIDE, thumb_key, thumb_path

PAGE = 256
# Made again from the images' text after the switch (the text phase), in the store's languages.
NOT_COPIED = frozenset({"text_sha"})
STAGE = "reembed"


@dataclass
class Reembedded:
    """How the images went into the staging collection."""

    images: int = 0  # there now, from this run and any earlier one cut short
    embedded: int = 0  # by this run
    from_thumbnail: list[str] = field(default_factory=list)  # ids whose original was unreadable
    failed: list[tuple[str, str]] = field(default_factory=list)  # (id, why): not there


def reembed_images(
    store: ImageStore,
    staged: ImageStore,
    encoder: Encoder,
    data_dir: Path,
    progress: Progress,
    *,
    read: Read = read_item,
) -> Reembedded:
    """Embed every image of `store` that `staged` does not hold yet into it (see the module)."""
    total = store.images.count()
    done = Reembedded()

    def missing(flt: Filter) -> Iterator[Record]:
        scroll = store.images.scroll(flt, with_payload=FIELDS, page_size=PAGE)
        for page in _batched(scroll, PAGE):
            ids = [r.id for r in page]
            there = staged.images.retrieve(ids, with_payload=False, with_vectors=True)
            _refresh_payloads(store, staged, there)
            done.images += len(there)
            have = {r.id for r in there}
            yield from (r for r in page if r.id not in have)

    def write(ids: list[str], vectors: Iterable[Any]) -> None:
        payloads = {r.id: r.payload for r in store.images.retrieve(ids, with_payload=True)}
        staged.images.upsert(
            [PointData(i, v, _copied(payloads[i])) for i, v in zip(ids, vectors, strict=True)]
        )
        done.images += len(ids)
        done.embedded += len(ids)
        progress(STAGE, done.images + len(done.failed), total)

    stills = Filter(must=(IsEmpty("video_sha256"),))
    source = _source(data_dir, read, done.from_thumbnail)
    for batch in encoder.embed_sources(missing(stills), read=source, min_side=THUMB_SIDE):
        done.failed.extend((record.id, why) for record, why in batch.failed)
        if batch.decoded:
            write([d.item.id for d in batch.decoded], batch.vectors)
    frames = list(missing(Filter(must_not=(IsEmpty("video_sha256"),))))
    for chunk in _batched(pictures(frames, data_dir, THUMB_SIDE, read), encoder.batch_size):
        done.failed.extend((record.id, why) for record, (picture, why) in chunk if picture is None)
        good = [(record, picture, how) for record, (picture, how) in chunk if picture is not None]
        done.from_thumbnail.extend(r.id for r, _, how in good if how == "thumbnail")
        if good:
            write([r.id for r, _, _ in good], encoder.embed_images([p for _, p, _ in good]))
    return done


def _copied(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in NOT_COPIED}


def _refresh_payloads(store: ImageStore, staged: ImageStore, there: list[Record]) -> None:
    """Images a run cut short had embedded already get the store's payloads of now (posts
    linked, captions or topics written since), whole: their vectors are kept."""
    if not there:
        return
    payloads = {r.id: r.payload for r in store.images.retrieve([r.id for r in there])}
    staged.images.upsert([PointData(r.id, r.vector, _copied(payloads[r.id])) for r in there])


def settle(store: ImageStore, staged: ImageStore) -> int:
    """Take the images that left the store since a run cut short embedded them (a dataset
    removed) out of the staging collection; returns how many."""
    kept = {r.id for r in store.images.scroll(with_payload=False, page_size=5000)}
    gone = [
        r.id for r in staged.images.scroll(with_payload=False, page_size=5000) if r.id not in kept
    ]
    staged.images.delete(gone)
    return len(gone)


def _source(data_dir: Path, read: Read, thumbnails: list[str]) -> Callable[[Record], Source]:
    """What `embed_sources` decodes for a still image: its verified original's bytes, else
    its thumbnail's path (noted in `thumbnails`); a missing thumbnail raises, so the image is
    reported as failed with the reason."""

    def source(record: Record) -> Source:
        data = original_bytes(record.payload, read)
        if data is not None:
            return data
        path = thumb_path(data_dir, thumb_key(record.payload) or "")
        if not path.is_file():
            raise FileNotFoundError(f"no readable original or thumbnail ({path})")
        thumbnails.append(record.id)
        return path

    return source


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of `size` items (the last one shorter); itertools.batched is Python 3.12's."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk
