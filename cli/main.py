"""`picsift` console script: global options, error reporting, and the command tree."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from picsift import __version__
from picsift.errors import PicsiftError

app = typer.Typer(
    name="picsift",
    help="Search and explore the images of social-media research corpora (4CAT exports).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"picsift {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    ctx: typer.Context,
    store: Annotated[
        str | None,
        typer.Option(help="Store directory or Qdrant URL [env: PICSIFT_STORE]", show_default=False),
    ] = None,
    collection: Annotated[
        str | None,
        typer.Option(help="Image collection name [env: PICSIFT_COLLECTION]", show_default=False),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(help="Embedding model [env: PICSIFT_MODEL]", show_default=False),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="Settings file (default ./picsift.toml) [env: PICSIFT_CONFIG]"),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print version.")
    ] = False,
) -> None:
    """Global options override picsift.toml and PICSIFT_* environment variables."""
    if config is not None:
        import os

        os.environ["PICSIFT_CONFIG"] = str(config)
    ctx.obj = {"store": store, "collection": collection, "model": model}


def _register() -> None:
    from cli import (
        circulation,
        coding,
        demo,
        index,
        models,
        search,
        selections,
        serve,
        status,
        store,
        tag,
        topics,
    )

    circulation.register(app)
    coding.register(app)
    demo.register(app)
    index.register(app)
    models.register(app)
    search.register(app)
    selections.register(app)
    serve.register(app)
    status.register(app)
    store.register(app)
    tag.register(app)
    topics.register(app)


_register()


def main() -> None:
    """Entry point: picsift's own errors print as one clear message, exit status 2."""
    try:
        app()
    except PicsiftError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
