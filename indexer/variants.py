"""Variant groups: the images that are the same picture (re-encoded, resized, cropped up to
about 15% a side, overlaid with text, colour-shifted; see `picsift.matching`), whatever scrape
or post they came from.

Every image without a `variant` payload gets one, incrementally. Its candidates are the images
nearest to it by the stored vectors (CLIP finds crops and overlays) and the images sharing a
band of its perceptual hash (re-encodes and resizes, whatever the model); each candidate is
verified by local matching on the thumbnails, and verified pairs join their groups. Written:

- `phash` (16 hex digits) and `phash_bands` (for the candidates of later images);
- `variant`: the group's id (the smallest image id in it: a merged group takes the smaller);
- `variant_size`: how many images the group holds (the same on every member).

Frames of one video are never put in one group (not by a match between them, nor through a
third picture both match): a video's frames are its scenes, not its re-posts. Resumable: images
of a run cut short before their `variant` was written are grouped by the next one.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from indexer.pictures import thumbnail
from picsift.matching import Features, bands, features, hamming, verify
from picsift.progress import Progress
from picsift.store import Filter, HasId, ImageStore, IsEmpty, Match, MatchAny, Record
from picsift.thumbs import THUMB_FIELDS

PAGE = 128
NEIGHBOURS = 10  # nearest images by vector checked for each new image
MAX_HAMMING = 12  # pHash bits a band-sharing candidate may differ in
MAX_BAND_CANDIDATES = 50
CACHED = 1024  # thumbnails' features kept in memory in a run
FIELDS = [*THUMB_FIELDS, "video_sha256", "variant", "phash"]


Node = tuple[str, str]  # ("image", id): an image without a group yet; ("group", id)


@dataclass
class _Groups:
    """Union-find over the images without a group yet and the existing groups they meet (one
    node each: an image id can also name a group, so the two kinds never share a key), with
    each set's videos: frames of one video never share a set."""

    parent: dict[Node, Node] = field(default_factory=dict)
    videos: dict[Node, set[str]] = field(default_factory=dict)

    def add(self, node: Node, videos: set[str]) -> None:
        if node not in self.parent:
            self.parent[node] = node
            self.videos[node] = videos

    def find(self, node: Node) -> Node:
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, a: Node, b: Node) -> None:
        """Join the sets of `a` and `b`, unless that puts two frames of a video together."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb or self.videos[ra] & self.videos[rb]:
            return
        self.parent[rb] = ra
        self.videos[ra] |= self.videos.pop(rb)

    def sets(self) -> list[tuple[set[str], set[str]]]:
        """Each set with images without a group: (those images, the existing groups in it)."""
        found: dict[Node, tuple[set[str], set[str]]] = {}
        for node in self.parent:
            images, groups = found.setdefault(self.find(node), (set(), set()))
            kind, name = node
            (images if kind == "image" else groups).add(name)
        return [(images, groups) for images, groups in found.values() if images]


class _Pictures:
    """Features of the images' thumbnails (`indexer.pictures.thumbnail`), or why there are
    none; the last `CACHED` kept (each holds its detail band, about half a megabyte), as the
    candidates of an image are mostly the images just seen."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.cache: OrderedDict[str, Features | str] = OrderedDict()

    def of(self, record: Record) -> Features | str:
        if record.id in self.cache:
            self.cache.move_to_end(record.id)
            return self.cache[record.id]
        picture, why = thumbnail(record.payload, self.data_dir)
        found = features(picture) if picture is not None else why
        self.cache[record.id] = found
        if len(self.cache) > CACHED:
            self.cache.popitem(last=False)
        return found


@dataclass(frozen=True)
class VariantReport:
    """How many images got their group, how many of them are the same picture as another
    image (a group of two or more), and `(image id, reason)` for those whose thumbnail could
    not be read (left without, tried again next run)."""

    written: int
    joined: int
    failed: list[tuple[str, str]]


def _members(store: ImageStore, group: str, fields: list[str] | bool = False) -> list[Record]:
    """The images of a group."""
    return list(store.images.scroll(Filter(must=(Match("variant", group),)), with_payload=fields))


def recount(store: ImageStore, groups: set[str]) -> None:
    """`variant_size` again for the members of `groups` (after images left them). A group
    keeps its id when the image it was named after is gone; one whose members were held
    together only by a removed image stays one group until `picsift variants --again`."""
    for group in groups:
        members = [r.id for r in _members(store, group)]
        store.images.set_payloads((m, {"variant_size": len(members)}) for m in members)


def forget_variants(store: ImageStore) -> int:
    """Drop every image's group (for `picsift variants --again`: all grouped anew, with
    today's rules); the hashes stay. Returns how many images had one."""
    grouped = [
        r.id
        for r in store.images.scroll(Filter(must_not=(IsEmpty("variant"),)), with_payload=False)
    ]
    for start in range(0, len(grouped), 1000):
        store.images.delete_payload_keys(grouped[start : start + 1000], ["variant", "variant_size"])
    return len(grouped)


def group_variants(
    store: ImageStore, data_dir: Path, progress: Progress | None = None
) -> VariantReport:
    """Give every image without a `variant` payload its group (see the module)."""
    missing = Filter(must=(IsEmpty("variant"),))
    todo = [r.id for r in store.images.scroll(missing, with_payload=False)]
    pictures = _Pictures(Path(data_dir))
    groups = _Groups()
    failed: list[tuple[str, str]] = []
    for start in range(0, len(todo), PAGE):
        ids = todo[start : start + PAGE]
        page = store.images.retrieve(ids, with_payload=FIELDS, with_vectors=True)
        hashes, readable = [], []
        for record in page:
            found = pictures.of(record)
            if isinstance(found, str):
                failed.append((record.id, found))
            else:
                readable.append(record)
                hashes.append(
                    (record.id, {"phash": f"{found.phash:016x}", "phash_bands": bands(found.phash)})
                )
        store.images.set_payloads(hashes)  # before the matching: later images find these
        for record in readable:
            _match(store, record, pictures, groups)
        if progress:
            progress("variants", start + len(ids), len(todo))
    written, joined = _write(store, groups)
    return VariantReport(written, joined, failed)


def _videos(payload: dict[str, Any]) -> set[str]:
    return {payload["video_sha256"]} if payload.get("video_sha256") else set()


def _node(store: ImageStore, record: Record, groups: _Groups) -> Node:
    """The record's node: its group's, when it has one; else its own."""
    group = record.payload.get("variant")
    if group:
        node = ("group", group)
        if node not in groups.parent:
            members = _members(store, group, ["video_sha256"])
            groups.add(node, {v for r in members for v in _videos(r.payload)})
        return node
    node = ("image", record.id)
    groups.add(node, _videos(record.payload))
    return node


def _match(store: ImageStore, record: Record, pictures: _Pictures, groups: _Groups) -> None:
    """Verify the image's candidates and join it with those that are the same picture."""
    own = pictures.of(record)
    assert not isinstance(own, str)
    node = _node(store, record, groups)
    for other in _candidates(store, record, own):
        theirs = pictures.of(other)
        if not isinstance(theirs, str) and verify(own, theirs).same:
            groups.union(node, _node(store, other, groups))


def _candidates(store: ImageStore, record: Record, own: Features) -> list[Record]:
    """The nearest images by vector, and those whose hash shares a band and differs in few
    bits; never the image itself, nor another frame of its video."""
    video = record.payload.get("video_sha256")
    same_video = (Match("video_sha256", video),) if video else ()
    skip = Filter(must_not=(HasId((record.id,)), *same_video))
    near = store.images.query(record.vector, filter=skip, limit=NEIGHBOURS, with_payload=FIELDS)
    by_band = Filter(
        must=(MatchAny("phash_bands", tuple(bands(own.phash))),), must_not=skip.must_not
    )
    sharing = islice(store.images.scroll(by_band, with_payload=FIELDS), MAX_BAND_CANDIDATES)
    similar = [
        r
        for r in sharing
        if hamming(int(r.payload.get("phash") or "0", 16), own.phash) <= MAX_HAMMING
    ]
    return list({r.id: Record(r.id, r.payload) for r in [*near, *similar]}.values())


def _write(store: ImageStore, groups: _Groups) -> tuple[int, int]:
    """`variant` and `variant_size` for every set with new images: the new images and the
    members of the existing groups it holds. A set keeps the smallest id of its existing groups
    (a group's id does not change when images join it), else takes its smallest image id."""
    written = joined = 0
    for new, old in groups.sets():
        members = set(new)
        for group in old:
            members |= {r.id for r in _members(store, group)}
        group_id = min(old) if old else min(new)
        store.images.set_payloads(
            (m, {"variant": group_id, "variant_size": len(members)}) for m in sorted(members)
        )
        written += len(new)
        joined += len(new) if len(members) > 1 else 0
    return written, joined
