"""`picsift status`: what is in the store."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.client import Server, open_or_served
from cli.display import json_line, shown
from picsift.store.status import FIELDS, store_status


def _print_human(status: dict[str, Any]) -> None:
    typer.echo(f"store     {shown(status['store'])} ({status['backend']})")
    typer.echo(f"model     {shown(status['model'])}")
    typer.echo(f"images    {status['images']:,} ({status['captioned']:,} captioned)")
    typer.echo(f"videos    {status['videos']:,} ({status['frames']:,} frames)")
    media = status["images"] + status["frames"]
    typer.echo(f"ocr       text read in {status['text_read']:,} of {media:,} images and frames")
    if status["text_languages"]:
        typer.echo(f"text      searched in {', '.join(status['text_languages'])} (BM25)")
    elif status["images"] or status["frames"]:
        typer.echo("text      not searchable: made before text search; picsift store migrate")
    typer.echo(f"posts     {status['posts']:,} ({status['post_links']:,} image-post links)")
    run = f" (run {shown(status['topic_run'])})" if status["topic_run"] else ""
    typer.echo(f"topics    {status['topics']:,}{run}")
    for name, count in sorted(status["datasets"].items()):
        typer.echo(f"  dataset {shown(name)}: {count:,} images")
    if not status["images"] and not status["frames"]:
        typer.echo("nothing indexed yet: picsift index SOURCE (or picsift demo)")


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""

    @app.command()
    def status(
        ctx: typer.Context,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """Show what is in the store: images, videos, posts, datasets, topics, model."""
        from cli.common import settings_from

        settings = settings_from(ctx)
        opened = open_or_served(settings, "picsift status")
        if isinstance(opened, Server):
            served = opened.get("/api/status", what="the status")
            result = {name: served[name] for name in FIELDS}
        else:
            with opened:
                result = store_status(opened, settings)
        if as_json:
            typer.echo(json_line(result))
        else:
            _print_human(result)
