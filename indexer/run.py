"""`picsift index` as one workflow: collect the sources, index them, then the enrichment phases.

The command line, the server's index jobs, the tests and the benches all call `run_index`; the
composition roots (`cli`, `search`) add only what crosses stages: topic assignment of
the new images, and rebuilding the search index after the writes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from indexer.cache import IndexCache
from indexer.captions import caption_missing
from indexer.ocr import ocr_missing
from indexer.pipeline import Indexer
from indexer.reader import read_item
from indexer.records import MediaItem
from indexer.shard import Shard
from indexer.sources import collect
from indexer.text_vectors import text_vectors
from indexer.variants import group_variants
from indexer.video import FramePlan
from picsift.models.ocr import OcrEngine, OcrUnavailable
from picsift.progress import Progress
from picsift.settings import Settings
from picsift.store import ImageStore
from picsift.text import NO_TEXT_VECTORS

if TYPE_CHECKING:
    from picsift.models.protocols import Encoder, ImageCaptioner


class Phase(Protocol):
    """An enrichment of the stored images: it works on every image still without its
    enrichment, so a run cut short is finished by the next one, and reports under its `name`
    in the run's report. It runs after a run that added images; with `every_run`, after
    every run (it must finish what a run cut short left, and costs little when nothing
    changed)."""

    name: str
    every_run: bool

    def run(self, store: ImageStore, data_dir: Path, progress: Progress) -> dict[str, Any]:
        """Enrich what is missing; the report section: `written` (a count), failures."""
        ...


def _section(written: int, failed: list[tuple[str, str]]) -> dict[str, Any]:
    """A phase's report section from its count and its `(image id, reason)` failures."""
    return {"written": written, "failed": [{"id": i, "reason": r} for i, r in failed]}


@dataclass(frozen=True)
class Captions:
    """Captions for every image without one, read from the thumbnails."""

    captioner: ImageCaptioner
    name: str = "captions"
    every_run: bool = False

    def run(self, store: ImageStore, data_dir: Path, progress: Progress) -> dict[str, Any]:
        return _section(*caption_missing(store, self.captioner, data_dir, progress=progress))


@dataclass(frozen=True)
class Ocr:
    """The text in every image without an `ocr` payload (see `indexer.ocr`); with Tesseract
    or a language missing, `off` says why and nothing is read."""

    engine: OcrEngine | None
    off: str | None = None
    name: str = "ocr"
    every_run: bool = False

    def run(self, store: ImageStore, data_dir: Path, progress: Progress) -> dict[str, Any]:
        if self.engine is None:
            return {"written": 0, "failed": [], "off": self.off}
        return _section(*ocr_missing(store, self.engine, data_dir, progress=progress))


@dataclass(frozen=True)
class TextVectors:
    """The BM25 text vectors of every image whose text changed (see `indexer.text_vectors`):
    first, so new images' posts are searchable by their text while captions and OCR run, and
    again last, after the phases that write text; after every run, so a run cut short in any
    writer of text (or in this phase) is made good by the next. A store made before text
    search (schema 1) is left as it is, and `off` says how to give it text vectors."""

    name: str = "text"
    every_run: bool = True

    def run(self, store: ImageStore, data_dir: Path, progress: Progress) -> dict[str, Any]:
        if not store.has_text_vectors:
            return {"written": 0, "failed": [], "off": NO_TEXT_VECTORS}
        return {"written": text_vectors(store, progress=progress), "failed": []}


@dataclass(frozen=True)
class Variants:
    """The variant group of every image without one (see `indexer.variants`)."""

    name: str = "variants"
    every_run: bool = False

    def run(self, store: ImageStore, data_dir: Path, progress: Progress) -> dict[str, Any]:
        done = group_variants(store, data_dir, progress)
        return _section(done.written, done.failed) | {"joined": done.joined}


def ocr_phase(settings: Settings) -> Ocr:
    """OCR as the settings ask for it, or off with the reason (Tesseract missing...)."""
    try:
        return Ocr(OcrEngine(settings.ocr_languages, settings.ocr_min_confidence))
    except OcrUnavailable as exc:
        return Ocr(None, str(exc))


@dataclass(frozen=True)
class Sources:
    """What one run indexes (see `indexer.sources.collect`)."""

    paths: tuple[Path, ...]
    dataset: str | None = None
    image_column: str | None = None
    roots: tuple[Path, ...] | None = None  # an index job's readable folders; None: the CLI


@dataclass
class IndexRun:
    """A run's report (the `picsift index --report` shape, a section per phase that ran), the
    ids of the images it added, and how many payloads its phases wrote (after which search
    wants `ImageStore.refresh_index`; the new images themselves are optimised by the run)."""

    report: dict[str, Any]
    new_ids: list[str] = field(default_factory=list)
    enriched: int = 0


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run's enrichment phases: the images the run indexed are stored, and
    `run.report` says so, with the phase cut short as `interrupted` (the next run finishes
    it: phases work on what is missing)."""

    def __init__(self, run: IndexRun):
        super().__init__()
        self.run = run


def enrichment(settings: Settings, *, captions: bool = True) -> list[Phase]:
    """The enrichment phases the settings switch on, in the order they run: the text vectors
    first (new posts searchable by their words at once), variant groups, the phases that write
    text (captions, OCR: the slow ones), and the text vectors again after them."""
    from picsift.models.factory import captioner_for

    captioner = captioner_for(settings) if captions else None
    grouping: list[Phase] = [Variants()] if settings.variants else []
    phases: list[Phase] = [Captions(captioner)] if captioner is not None else []
    if settings.ocr:
        phases.append(ocr_phase(settings))
    last = [TextVectors()] if phases else []
    return [TextVectors(), *grouping, *phases, *last]


def frame_plan(settings: Settings) -> FramePlan:
    """Which frames of each video the settings keep."""
    return FramePlan(every=settings.video_frame_every, max_frames=settings.video_max_frames)


def run_index(
    store: ImageStore,
    encoder: Encoder,
    cache: IndexCache,
    data_dir: Path,
    sources: Sources,
    *,
    phases: Sequence[Phase] = (),
    frames: FramePlan | None = None,
    read: Callable[[MediaItem], bytes] = read_item,
    progress: Progress | None = None,
    shard: Shard | None = None,
    only_new: bool = False,
    with_posts: bool = True,
) -> IndexRun:
    """Index the sources, then run each phase when the run added images (a phase that
    runs after every run, always); a phase that runs twice reports once, summed.

    Args:
        frames: Which frames of each new video are kept (default: `FramePlan()`).
        only_new: Index only files not hashed before (`--watch`).
        with_posts: Read the tables' posts (`--watch` leaves them out when no table changed).
    """
    found = collect(list(sources.paths), sources.dataset, sources.image_column, sources.roots)
    if only_new:
        found.media = [m for m in found.media if cache.cached_hash(m) is None]
    if not with_posts:
        found.posts = []
    new_ids: list[str] = []
    indexer = Indexer(
        store,
        encoder,
        cache,
        data_dir,
        read=read,
        on_new=new_ids.extend,
        progress=progress,
        shard=shard,
        frames=frames,
    )
    result = indexer.run(found.media, found.posts)
    result.failed[:0] = found.failed
    result.warnings[:0] = found.warnings
    result.skipped[:0] = found.skipped
    report = result.to_dict()
    enriched = 0
    for phase in phases:
        if new_ids or phase.every_run:
            try:
                section = phase.run(store, data_dir, progress or _quiet)
            except KeyboardInterrupt:
                report["interrupted"] = phase.name
                raise Interrupted(IndexRun(report, new_ids, enriched)) from None
            report[phase.name] = _summed(report.get(phase.name), section)
            enriched += section["written"]
    return IndexRun(report, new_ids, enriched)


def _summed(earlier: dict[str, Any] | None, section: dict[str, Any]) -> dict[str, Any]:
    """A phase's report section, with what an earlier run of it in the same run wrote and
    failed added."""
    if earlier is None:
        return section
    failed = earlier["failed"] + section["failed"]
    return section | {"written": earlier["written"] + section["written"], "failed": failed}


def _quiet(stage: str, done: int, total: int) -> None:
    """No progress shown."""
