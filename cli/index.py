"""`picsift index`, `picsift caption` and `picsift remove`: getting images in and out."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.client import Server, open_or_served
from cli.progress import Bars
from picsift.settings import Settings
from picsift.store import ImageStore, open_store

if TYPE_CHECKING:
    from indexer.run import Sources


def stage_bars() -> Bars:
    """The bars of the indexing workflow's stages (hash, embed, videos, its phases)."""
    stages = {"hash", "embed", "video", "variants", "caption", "ocr", "text", "search index"}
    return Bars(stages=stages)


def _summary(report: dict, topics: str | None = None) -> None:
    known = report["known"] + report["known_videos"]
    distinct = report["new"] + report["new_videos"] + known
    copies = report["found"] - distinct - len(report["failed"])
    videos = report["new_videos"] or report["known_videos"]
    typer.echo(
        f"found {report['found']:,} files: {report['new']:,} new images, "
        + (
            f"{report['new_videos']:,} new videos ({report['new_frames']:,} frames kept), "
            if videos
            else ""
        )
        + f"{known:,} already indexed, {len(report['failed']):,} failed"
        + (f", {copies:,} more copies of the same content" if copies > 0 else "")
    )
    waiting = "not among this run's images" if report["found"] else "waiting for their images"
    typer.echo(
        f"posts: {report['posts_linked']:,} linked to images, "
        f"{report['posts_without_media']:,} {waiting} (kept: an archive indexed later links them)"
    )
    reasons = Counter(f["reason"].split(":")[0] for f in report["failed"])
    for reason, count in reasons.most_common():
        typer.echo(f"  failed ({reason}): {count:,}")
    for warning in report["warnings"]:
        typer.echo(f"  warning: {warning}")
    if variants := report.get("variants"):
        typer.echo(variants_line(variants))
    if captions := report.get("captions"):
        typer.echo(f"captions: {captions['written']:,} written, {len(captions['failed']):,} failed")
    if ocr := report.get("ocr"):
        typer.echo(ocr_line(ocr))
    if text := report.get("text"):
        typer.echo(text_line(text))
    if topics:
        typer.echo(topics)


def _topics_line(topics: dict | None) -> str | None:
    """The summary line of the new images joining the current topic run."""
    if topics is None:
        return None
    return (
        f"topics: {topics['assigned']:,} new images joined topics of run {topics['run']}, "
        f"{topics['unassigned']:,} matched none (topic -1)"
    )


def variants_line(variants: dict) -> str:
    """The variant phase's report in one line."""
    return (
        f"variants: {variants['written']:,} images grouped, {variants['joined']:,} of them the "
        f"same picture as another image, {len(variants['failed']):,} failed"
    )


def ocr_line(ocr: dict) -> str:
    """The OCR phase's report in one line (or why it is off)."""
    if ocr.get("off"):
        return ocr["off"]
    return f"ocr: {ocr['written']:,} images read, {len(ocr['failed']):,} failed"


def text_line(text: dict) -> str:
    """The text phase's report in one line (or why the store has no text vectors)."""
    return text.get("off") or f"text search: {text['written']:,} images' text vectors made"


class _Run:
    """One indexing pass over the sources (`indexer.run.run_index`), repeatable for --watch;
    new images join the current topic run."""

    def __init__(self, store: ImageStore, settings: Settings, sources: Sources, **options):
        self.store = store
        self.settings = settings
        self.sources = sources
        self.options = options  # run_index's other arguments
        self.mtimes: dict[Path, float] = {}

    def once(self, only_new: bool = False) -> tuple[dict, str | None]:
        """Index what the sources hold. With `only_new` (--watch), only files not hashed
        before, and posts only when a table changed since the last pass.

        Returns the report (with `captions` when it captioned) and the topic summary.
        """
        from indexer.run import frame_plan, run_index
        from search.tasks import join_topics

        mtimes = {p: p.stat().st_mtime for p in self.sources.paths if p.is_file()}
        with_posts = not only_new or mtimes != self.mtimes
        self.mtimes = mtimes
        run = run_index(
            self.store,
            sources=self.sources,
            only_new=only_new,
            with_posts=with_posts,
            data_dir=self.settings.data_dir,
            frames=frame_plan(self.settings),
            **self.options,
        )
        topics = join_topics(self.store, self.settings, run, self.options.get("progress"))
        if topics is not None:
            run.report["topics"] = topics
        return run.report, _topics_line(topics)

    def watch(self, interval: float) -> None:
        """Look for new files every `interval` seconds until interrupted (Ctrl-C)."""
        import time

        from indexer.run import Interrupted

        typer.echo(f"watching for new files every {interval:g} s (Ctrl-C to stop)")
        try:
            while True:
                time.sleep(interval)
                out, topics = self.once(only_new=True)
                if out["found"] or out["posts_linked"]:
                    _summary(out, topics)
        except KeyboardInterrupt as stop:
            if isinstance(stop, Interrupted):  # what the pass stored before Ctrl-C
                _summary(stop.run.report, None)
                typer.echo(
                    f"interrupted in the {stop.run.report['interrupted']} phase: the next run "
                    "finishes it"
                )
            typer.echo("stopped watching")


def index_sources(
    settings: Settings,
    sources: list[Path],
    *,
    dataset: str | None = None,
    image_column: str | None = None,
    captions: bool = True,
    batch_size: int = 32,
    shard: str | None = None,
    report: Path | None = None,
    watch: bool = False,
    interval: float = 10.0,
) -> dict:
    """`picsift index` as a function (the demo calls it too); returns the report."""
    from indexer.cache import IndexCache
    from indexer.reader import MediaReader
    from indexer.run import Sources, enrichment
    from indexer.shard import Shard
    from indexer.sources import check_anything_read
    from picsift.models.factory import encoder_for
    from picsift.names import check_dataset

    if dataset is not None:
        check_dataset(dataset)
    worker = Shard.parse(shard) if shard else None
    paths = [p.expanduser().resolve() for p in sources]
    store = open_or_served(settings, "picsift index")
    if isinstance(store, Server):
        if watch or worker:  # a job indexes once, everything
            raise store.locked
        body = {"paths": [str(p) for p in paths], "dataset": dataset}
        body |= {"image_column": image_column, "captions": captions}
        out = store.run_job("/api/jobs/index", body, "indexing")
        if report:
            report.write_text(json.dumps(out, indent=2, ensure_ascii=False))
        _summary(out, _topics_line(out.get("topics")))
        return out
    cache = IndexCache(settings.data_dir)
    with (
        store,
        MediaReader() as reader,
        stage_bars() as bars,
    ):
        run = _Run(
            store,
            settings,
            Sources(tuple(paths), dataset, image_column),
            encoder=encoder_for(store, settings, batch_size=batch_size, new_store=True),
            cache=cache,
            phases=enrichment(settings, captions=captions),
            read=reader.read,
            progress=bars,
            shard=worker,
        )
        out, topics = run.once()
        if report:
            report.write_text(json.dumps(out, indent=2, ensure_ascii=False))
        if watch:
            bars.progress.stop()
            _summary(out, topics)
            run.watch(interval)
    cache.close()
    if not watch:
        _summary(out, topics)
        check_anything_read(out)
    return out


def register(app: typer.Typer) -> None:
    """Add the commands to the CLI."""

    @app.command()
    def index(
        ctx: typer.Context,
        sources: Annotated[
            list[Path], typer.Argument(help="Folders, zips, 4CAT media archives, CSV/NDJSON.")
        ],
        dataset: Annotated[
            str | None, typer.Option(help="Dataset name (default: 4CAT key, else file name).")
        ] = None,
        image_column: Annotated[
            str | None, typer.Option(help="Column of image paths in a hand-made table.")
        ] = None,
        report: Annotated[
            Path | None, typer.Option(help="Write a JSON report (every failure) here.")
        ] = None,
        captions: Annotated[
            bool, typer.Option("--captions/--no-captions", help="Caption new images.")
        ] = True,
        batch_size: Annotated[
            int, typer.Option(min=1, help="Images per batch (embedded and written together).")
        ] = 32,
        watch: Annotated[
            bool, typer.Option("--watch", help="Keep running; index new files as they arrive.")
        ] = False,
        interval: Annotated[
            float, typer.Option(min=0.1, help="With --watch: seconds between looks.")
        ] = 10.0,
        shard: Annotated[
            str | None,
            typer.Option(help="Worker I of N (e.g. 2/3): index only this worker's images."),
        ] = None,
    ) -> None:
        """Index images from folders, 4CAT exports and tables (incremental).

        New images join the current topic run, if topics were fitted.
        """
        from cli.common import settings_from

        index_sources(
            settings_from(ctx),
            sources,
            dataset=dataset,
            image_column=image_column,
            captions=captions,
            batch_size=batch_size,
            shard=shard,
            report=report,
            watch=watch,
            interval=interval,
        )

    @app.command()
    def caption(ctx: typer.Context) -> None:
        """Caption the images that have no caption yet (from their thumbnails)."""
        from cli.common import settings_from

        settings = settings_from(ctx)
        if not settings.caption_enabled:
            typer.echo("captions are off (PICSIFT_CAPTION_MODEL=none)")
            return
        from search import tasks
        from topics.relabel import RelabelReport

        opened = open_or_served(settings, "picsift caption")
        if isinstance(opened, Server):
            done = opened.run_job("/api/jobs/caption", {}, "captioning")
        else:
            with opened, stage_bars() as bars:
                done = tasks.caption(opened, settings, bars)
        typer.echo(f"captions: {done['written']:,} written, {len(done['failed']):,} failed")
        for failure in done["failed"]:
            typer.echo(f"  failed: {failure['id']}: {failure['reason']}")
        if "topics" in done:
            typer.echo(RelabelReport(**done["topics"]).summary())

    @app.command()
    def ocr(ctx: typer.Context) -> None:
        """Read the text in the images that have none read yet (OCR, PICSIFT_OCR_LANGUAGES)."""
        from cli.common import settings_from
        from search import tasks

        settings = settings_from(ctx)
        opened = open_or_served(settings, "picsift ocr")
        if isinstance(opened, Server):
            done = opened.run_job("/api/jobs/ocr", {}, "ocr")
        else:
            with opened, stage_bars() as bars:
                done = tasks.ocr(opened, settings, bars)
        typer.echo(ocr_line(done))
        for failure in done["failed"]:
            typer.echo(f"  failed: {failure['id']}: {failure['reason']}")

    @app.command()
    def variants(
        ctx: typer.Context,
        again: Annotated[
            bool, typer.Option("--again", help="Drop every group and group all images anew.")
        ] = False,
    ) -> None:
        """Group the images without a variant group with the images that are the same picture
        (re-encoded, resized, cropped, overlaid with text); see `variant` in the payloads."""
        from cli.common import settings_from
        from search import tasks

        settings = settings_from(ctx)
        opened = open_or_served(settings, "picsift variants")
        if isinstance(opened, Server):
            done = opened.run_job("/api/jobs/variants", {"again": again}, "variants")
        else:
            with opened, stage_bars() as bars:
                done = tasks.variants(opened, settings, bars, again=again)
        if done["forgotten"]:
            typer.echo(f"dropped the groups of {done['forgotten']:,} images")
        typer.echo(variants_line(done))
        for failure in done["failed"]:
            typer.echo(f"  failed: {failure['id']}: {failure['reason']}")

    @app.command()
    def remove(
        ctx: typer.Context,
        dataset: Annotated[str, typer.Option(help="Dataset whose posts are removed.")],
    ) -> None:
        """Take a dataset's posts out (images left with no post are deleted)."""
        from cli.common import settings_from
        from indexer.cache import IndexCache
        from indexer.remove import remove_dataset
        from search import tasks

        settings = settings_from(ctx)
        # The cache is opened once the store is known to exist: opening it creates its file.
        with open_store(settings, command="picsift remove") as store:
            if not store.exists:
                typer.echo("the store is empty: nothing to remove")
                return
            cache = IndexCache(settings.data_dir)
            try:
                kept, deleted = remove_dataset(store, cache, settings.data_dir, dataset)
            finally:
                cache.close()
            text = tasks.text(store, settings, None)  # the images kept lost posts
        typer.echo(f"removed dataset {dataset!r}: {deleted:,} images deleted, {kept:,} kept")
        typer.echo(text_line(text))
