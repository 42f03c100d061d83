"""`picsift topics fit|assign|relabel|list|show|rename|merge`: visual topics over the stored
vectors."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from cli.client import Server, open_or_served
from cli.progress import Bars
from picsift.settings import Settings
from picsift.store import ImageStore


def _open_or_served(ctx: typer.Context, command: str) -> tuple[Settings, ImageStore | Server]:
    """The store, opened (and checked against PICSIFT_MODEL), or the server that holds it
    (the command then goes through its API)."""
    from cli.common import settings_from

    settings = settings_from(ctx)
    opened = open_or_served(settings, f"picsift topics {command}")
    if not isinstance(opened, Server) and settings.model:
        opened.check_model(settings.model)
    return settings, opened


def _describe_run(info: Any) -> None:
    outliers = info.params.get("outliers", 0)
    sample = f" (a random sample of {info.n_images:,})" if info.params.get("sampled") else ""
    typer.echo(
        f"run {info.run}: {info.params['topics']:,} topics fitted on {info.n_fitted:,} "
        f"images{sample}, {outliers:,} outliers"
    )
    if info.previous:
        typer.echo(
            f"  since run {info.previous}: {len(info.kept):,} topic ids kept, "
            f"{len(info.new):,} new, {len(info.gone):,} gone"
        )
        for topic, old in info.merged.items():
            typer.echo(f"  topics {', '.join(map(str, old))} merged into {topic}")
        for old, topics in info.split.items():
            typer.echo(f"  topic {old} split into {', '.join(map(str, topics))}")
    if info.params.get("captioned_representatives"):
        typer.echo(f"  captioned {info.params['captioned_representatives']:,} representatives")
    worded = info.params.get("images_with_words", info.n_fitted)
    if worded < info.n_fitted:
        typer.echo(
            f"  {worded:,} of {info.n_fitted:,} images have a caption or tags: topics without "
            "words are labelled 'topic N (no words yet)' until `picsift caption` or "
            "`picsift tag` brings words (or run `picsift topics relabel` after adding them)"
        )


def _print_topics(topics: list) -> None:
    if not topics:
        typer.echo("no topics yet: picsift topics fit")
        return
    for t in topics:
        words = ", ".join(t.keywords[:6])
        typer.echo(f"{t.topic:>5}  {t.count:>7,}  {t.label}" + (f"  [{words}]" if words else ""))


def register(app: typer.Typer) -> None:
    """Add the `topics` commands to the CLI."""
    topics = typer.Typer(help="Fit, assign and edit visual topics.", no_args_is_help=True)
    app.add_typer(topics, name="topics")

    @topics.command()
    def fit(
        ctx: typer.Context,
        min_topic_size: Annotated[int, typer.Option(help="Least images per topic.")] = 5,
        nr_topics: Annotated[
            int | None, typer.Option(help="Reduce to this many topics (default: as found).")
        ] = None,
        seed: Annotated[int, typer.Option(help="Random seed (same data, same topics).")] = 42,
        sample: Annotated[
            int, typer.Option(help="Fit on a random sample of this many; assign the rest.")
        ] = 50_000,
        captions: Annotated[
            bool,
            typer.Option(
                "--captions/--no-captions",
                help="Caption representatives of topics that have too few words.",
            ),
        ] = True,
    ) -> None:
        """Fit BERTopic on the stored vectors and write topic ids back."""
        from search import tasks
        from topics.table import RunInfo

        params = {
            "min_topic_size": min_topic_size,
            "nr_topics": nr_topics,
            "seed": seed,
            "sample": sample,
        }
        settings, opened = _open_or_served(ctx, "fit")
        if isinstance(opened, Server):
            body = {"action": "fit", **params, "captions": captions}
            done = opened.run_job("/api/jobs/topics", body, "fitting topics")
        else:
            with opened, Bars() as bars:
                done = tasks.fit(opened, settings, bars, params, captions)
        _describe_run(RunInfo(**done["run"]))

    @topics.command()
    def assign(ctx: typer.Context) -> None:
        """Give images without a topic the nearest fitted topic."""
        from search import tasks

        settings, opened = _open_or_served(ctx, "assign")
        if isinstance(opened, Server):
            report = opened.run_job("/api/jobs/topics", {"action": "assign"}, "assigning topics")
        else:
            with opened, Bars() as bars:
                report = tasks.assign(opened, settings, bars)
        if report["run"] is None:
            typer.echo("no topics yet: picsift topics fit")
        else:
            typer.echo(
                f"run {report['run']}: {report['assigned']:,} images assigned, "
                f"{report['unassigned']:,} like no topic (-1, unassigned)"
            )

    @topics.command()
    def relabel(ctx: typer.Context) -> None:
        """Words and labels for the current topics from the captions and tags stored now
        (no refit: ids, renames and merges stay)."""
        from topics.relabel import relabel_topics

        settings, opened = _open_or_served(ctx, "relabel")
        if isinstance(opened, Server):  # the API has no relabelling
            raise opened.locked
        with opened:
            report = relabel_topics(opened, settings.data_dir)
        typer.echo(report.summary())

    @topics.command(name="list")
    def list_(
        ctx: typer.Context,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """List topics with counts and labels."""
        from topics.table import TopicInfo, list_topics

        _, opened = _open_or_served(ctx, "list")
        if isinstance(opened, Server):
            served = opened.get("/api/topics", what="the topics")
            found = [TopicInfo.from_payload(t) for t in served["topics"]]
        else:
            with opened:
                found = list_topics(opened)
        if as_json:
            run = found[0].run if found else None
            payload = {"run": run, "topics": [t.to_payload() for t in found]}
            typer.echo(json.dumps(payload, ensure_ascii=False))
        else:
            _print_topics(found)

    @topics.command()
    def show(
        ctx: typer.Context,
        topic: Annotated[int, typer.Argument(help="Topic number.")],
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """Show one topic: label, words, representative images, collage."""
        from topics.table import TopicInfo, collage_path, get_topic

        settings, opened = _open_or_served(ctx, "show")
        if isinstance(opened, Server):
            info = TopicInfo.from_payload(opened.get(f"/api/topics/{topic}", what=f"topic {topic}"))
        else:
            with opened:
                info = get_topic(opened, topic)
        collage = collage_path(settings.data_dir, info.run, info.topic)
        if as_json:
            out = {**info.to_payload(), "collage": str(collage) if collage.is_file() else None}
            typer.echo(json.dumps(out, ensure_ascii=False))
            return
        typer.echo(f"topic {info.topic}: {info.label}" + (" (renamed)" if info.renamed else ""))
        typer.echo(f"  images    {info.count:,}")
        typer.echo(f"  words     {', '.join(info.keywords) or '-'}")
        if info.merged_from:
            typer.echo(f"  merged    {', '.join(map(str, info.merged_from))}")
        typer.echo(f"  examples  {', '.join(info.representatives) or '-'}")
        if collage.is_file():
            typer.echo(f"  collage   {collage}")

    @topics.command()
    def rename(
        ctx: typer.Context,
        topic: Annotated[int, typer.Argument(help="Topic number.")],
        label: Annotated[str, typer.Argument(help="New label (kept by later refits).")],
    ) -> None:
        """Rename a topic."""
        from topics.edits import rename_topic
        from topics.table import TopicInfo

        settings, opened = _open_or_served(ctx, "rename")
        if isinstance(opened, Server):
            body = {"label": label}
            info = TopicInfo.from_payload(
                opened.post(f"/api/topics/{topic}", body, f"renaming topic {topic}", "PATCH")
            )
        else:
            with opened:
                info = rename_topic(opened, settings.data_dir, topic, label)
        typer.echo(f"topic {info.topic} is now {info.label!r}")

    @topics.command()
    def merge(
        ctx: typer.Context,
        topics_: Annotated[
            list[int], typer.Argument(metavar="TOPICS...", help="Topics; the first one stays.")
        ],
        label: Annotated[str | None, typer.Option(help="Label of the merged topic.")] = None,
    ) -> None:
        """Merge topics into the first one given."""
        from topics.edits import merge_topics
        from topics.table import TopicInfo

        settings, opened = _open_or_served(ctx, "merge")
        if isinstance(opened, Server):
            body = {"topics": topics_, "label": label}
            info = TopicInfo.from_payload(opened.post("/api/topics/merge", body, "the merge"))
        else:
            with opened:
                info = merge_topics(opened, settings.data_dir, topics_, label)
        others = ", ".join(str(t) for t in dict.fromkeys(topics_) if t != info.topic)
        typer.echo(f"merged {others} into topic {info.topic} ({info.label}): {info.count:,} images")
