"""What the write jobs do: the indexer and topics entry points, composed as `picsift index`,
`picsift caption` and `picsift topics` compose them (search is a composition root)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from picsift.errors import ModelUnavailableError
from picsift.progress import Progress
from picsift.settings import Settings
from picsift.store import ImageStore
from topics.table import current_run

if TYPE_CHECKING:
    from indexer.run import IndexRun, Ocr
    from picsift.models.protocols import Encoder


@dataclass(frozen=True)
class IndexSpec:
    """Sources of an index job, checked (they exist and may be read by this server), and the
    folders the job may read: links and table paths inside the sources that lead out of the
    root holding them are refused (a source in none of them, an uploaded zip, is held to
    itself, and so is every source while `roots` is empty)."""

    sources: tuple[Path, ...]
    dataset: str | None = None
    image_column: str | None = None
    captions: bool = True
    roots: tuple[Path, ...] = ()


def _refresh(store: ImageStore, progress: Progress | None) -> None:
    """Rebuild the search index after writes (`ImageStore.refresh_index`), as a stage of its
    own: on a large embedded store it takes a while after the bars of the work itself."""
    if progress:
        progress("search index", 0, 1)
    store.refresh_index()
    if progress:
        progress("search index", 1, 1)


def _plain(value: Any) -> Any:
    return asdict(value) if is_dataclass(value) and not isinstance(value, type) else value


def caption(store: ImageStore, settings: Settings, progress: Progress) -> dict[str, Any]:
    """`picsift caption`, command and job alike: the captions phase on every image without a
    caption, then, when it wrote any, the words and labels of the current topics (no refit:
    topics fitted before the captions get their words).

    Returns:
        `written`, `failed`, and `topics` (`topics.relabel.RelabelReport`) when it relabelled.
    """
    from indexer.run import Captions, TextVectors
    from picsift.models.factory import captioner_for
    from topics.relabel import relabel_topics

    captioner = captioner_for(settings)
    if captioner is None:
        return {"written": 0, "failed": [], "note": "captions are off (PICSIFT_CAPTION_MODEL)"}
    if not store.exists:
        return {"written": 0, "failed": []}
    done = Captions(captioner).run(store, settings.data_dir, progress)
    # Also when nothing was written: a run cut short after its captions left them unmade.
    done["text"] = TextVectors().run(store, settings.data_dir, progress)
    if done["written"] or done["text"]["written"]:
        _refresh(store, progress)
        relabeled = relabel_topics(store, settings.data_dir)
        if relabeled.run is not None:
            done["topics"] = _plain(relabeled)
    return done


def text(store: ImageStore, settings: Settings, progress: Progress | None) -> dict[str, Any]:
    """The text phase alone (after a write that changed text: remove, import, migrate), then
    the search index rebuilt when it wrote.

    Returns:
        The phase's report section (`written`, or `off` on a store without text vectors).
    """
    from indexer.run import TextVectors

    done = TextVectors().run(store, settings.data_dir, progress or (lambda *_: None))
    if done["written"]:
        _refresh(store, progress)
    return done


def ocr(store: ImageStore, settings: Settings, progress: Progress) -> dict[str, Any]:
    """`picsift ocr`, command and job alike: the OCR phase on every image and video frame
    whose text is not read yet, then the search index rebuilt (the keyword filter reads
    `ocr.text`).

    Returns:
        `written` and `failed`.

    Raises:
        ModelUnavailableError: Tesseract or a language's data is missing (the message says
            what to install).
    """
    from indexer.run import TextVectors

    phase = ocr_ready(settings)
    if not store.exists:
        return {"written": 0, "failed": []}
    done = phase.run(store, settings.data_dir, progress)
    done["text"] = TextVectors().run(store, settings.data_dir, progress)
    if done["written"] or done["text"]["written"]:
        _refresh(store, progress)
    return done


def ocr_ready(settings: Settings) -> Ocr:
    """The OCR phase the settings ask for.

    Raises:
        ModelUnavailableError: it is off (Tesseract or a language's data missing), naming why.
    """
    from indexer.run import ocr_phase

    phase = ocr_phase(settings)
    if phase.engine is None:
        raise ModelUnavailableError(phase.off)
    return phase


def assign(
    store: ImageStore,
    settings: Settings,
    progress: Progress | None,
    ids: list[str] | None = None,
    refresh: bool = True,
) -> dict[str, Any]:
    """Give images without a topic (all, or `ids`) the nearest topic of the current run."""
    from topics.assign import assign_topics

    report = assign_topics(store, settings.data_dir, ids, progress=progress)
    if (report.assigned or report.unassigned) and refresh:
        _refresh(store, progress)
    return _plain(report)


def fit(
    store: ImageStore,
    settings: Settings,
    progress: Progress,
    params: dict[str, Any],
    captions: bool = True,
) -> dict[str, Any]:
    """Fit topics on the stored vectors (a new current run); with `captions` (and captions
    on), representatives of topics with too few words get captioned."""
    from indexer.run import TextVectors
    from picsift.models.factory import captioner_for
    from topics.fit import FitParams, fit_topics

    captioner = captioner_for(settings) if captions else None
    run = fit_topics(
        store, settings.data_dir, FitParams(**params), captioner=captioner, progress=progress
    )
    TextVectors().run(store, settings.data_dir, progress)  # captioned representatives
    _refresh(store, progress)
    return {"run": _plain(run)}


def index(
    store: ImageStore, encoder: Encoder, settings: Settings, spec: IndexSpec, progress: Progress
) -> dict[str, Any]:
    """`picsift index` as a job (`indexer.run.run_index`, as the command line runs it); new
    images join the current topic run.

    Returns:
        The `picsift index --report` shape, with `captions` and `topics` sections.
    """
    from indexer.cache import IndexCache
    from indexer.reader import MediaReader
    from indexer.run import Sources, enrichment, frame_plan, run_index
    from indexer.sources import check_anything_read

    sources = Sources(spec.sources, spec.dataset, spec.image_column, spec.roots)
    cache = IndexCache(settings.data_dir)
    try:
        with MediaReader() as reader:
            run = run_index(
                store,
                encoder,
                cache,
                settings.data_dir,
                sources,
                phases=enrichment(settings, captions=spec.captions),
                frames=frame_plan(settings),
                read=reader.read,
                progress=progress,
            )
    finally:
        cache.close()
    report = run.report
    check_anything_read(report)
    topics = join_topics(store, settings, run, progress)
    if topics is not None:
        report["topics"] = topics
    return report


def join_topics(
    store: ImageStore, settings: Settings, run: IndexRun, progress: Progress | None
) -> dict[str, Any] | None:
    """What crosses stages after an index run, on both front-ends: its new images join the
    current topic run (the `topics.assign.AssignReport`, None without new images or topics),
    then the search index is rebuilt after the run's writes."""
    topics = None
    if run.new_ids and current_run(settings.data_dir) is not None:
        topics = assign(store, settings, progress, ids=run.new_ids, refresh=False)
    if run.enriched or topics is not None:
        _refresh(store, progress)
    return topics


def reembed(
    store: ImageStore,
    settings: Settings,
    model: str,
    progress: Progress,
    *,
    drop_unreadable: bool = False,
) -> dict[str, Any]:
    """`picsift reembed MODEL`: every image embedded again with `model` into a new collection
    beside the store, payloads copied, topic vectors and the current run's reference set moved
    into the new space, then the store switched to it and its text vectors made again.

    Returns:
        `model`, `previous`, `images`, `embedded`, `from_thumbnail`, `dropped` (ids and why),
        `topics` (`topics.rebase.Rebased`) and `text`.

    Raises:
        StoreError: an empty store, one of `model` already, images neither whose original nor
            whose thumbnail could be read (without `drop_unreadable`), or images that came or
            went meanwhile; the store is left as it was, and the new collection kept for the
            next run to go on with.
    """
    from indexer.reembed import reembed_images, settle
    from picsift.errors import StoreError
    from picsift.models.factory import make_encoder
    from picsift.store import vector_name
    from topics.rebase import rebase_topics, record_reembed

    if store.meta is None:
        raise StoreError(f"store {store.location} is empty: nothing to re-embed")
    previous = store.meta.model
    encoder = make_encoder(model, settings)  # loads nothing yet
    model = encoder.model_id  # as the store records it (a folder: its absolute path)
    if vector_name(model) == store.meta.vector_name:
        raise StoreError(f"store {store.location} holds vectors of {previous!r} already")
    staged = store.staging(model, encoder.dim)
    try:
        done = reembed_images(store, staged, encoder, settings.data_dir, progress)
        settle(store, staged)
        if done.failed and not drop_unreadable:
            first, why = done.failed[0]
            raise StoreError(
                f"{len(done.failed):,} images have neither a readable original nor a thumbnail "
                f"(first: {first}: {why}); the store is unchanged. Bring the files back and run "
                "picsift reembed again (it goes on where it stopped), or pass --drop-unreadable "
                "to switch without them"
            )
        expected = store.images.count() - len(done.failed)
        if staged.images.count() != expected:
            raise StoreError(
                f"the store changed while re-embedding ({expected:,} images to carry over, "
                f"{staged.images.count():,} in the new collection); run picsift reembed again"
            )
        rebased = rebase_topics(store, staged, settings.data_dir)
        staged.refresh_index()
    except BaseException:
        staged.close()
        raise
    store.replace_with(staged)
    record_reembed(settings.data_dir, rebased, model)
    return {
        "model": model,
        "previous": previous,
        "images": done.images,
        "embedded": done.embedded,
        "from_thumbnail": len(done.from_thumbnail),
        "dropped": [{"id": i, "reason": why} for i, why in done.failed],
        "topics": _plain(rebased),
        "text": text(store, settings, progress),
    }


def variants(
    store: ImageStore, settings: Settings, progress: Progress, *, again: bool = False
) -> dict[str, Any]:
    """`picsift variants`, command and job alike: the variant group of every image without
    one; `again`: every image grouped anew (the groups dropped first).

    Returns:
        `written`, `joined` (of them, the same picture as another image), `failed`, and
        `forgotten` (groups dropped by `again`).
    """
    from indexer.variants import forget_variants, group_variants

    if not store.exists:
        return {"written": 0, "joined": 0, "failed": [], "forgotten": 0}
    forgotten = forget_variants(store) if again else 0
    done = group_variants(store, settings.data_dir, progress)
    if done.written:
        _refresh(store, progress)
    failed = [{"id": i, "reason": r} for i, r in done.failed]
    return {
        "written": done.written,
        "joined": done.joined,
        "failed": failed,
        "forgotten": forgotten,
    }
