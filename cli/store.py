"""`picsift store export|import`: move a store between backends without re-embedding."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from picsift.store import open_store


def register(app: typer.Typer) -> None:
    """Add the `store` commands to the CLI."""
    store_app = typer.Typer(help="Move a store between backends.", no_args_is_help=True)
    app.add_typer(store_app, name="store")

    @store_app.command("export")
    def export_(
        ctx: typer.Context,
        out: Annotated[Path, typer.Argument(help="The file to write (a tar file).")],
    ) -> None:
        """Write the store (vectors, payloads, topics, saved selections, thumbnails, caches) to
        a portable file."""
        from cli.common import settings_from
        from picsift.store.portable import export_store

        settings = settings_from(ctx)
        with open_store(settings, command="picsift store export") as store:
            done = export_store(store, settings.data_dir, out.expanduser().resolve())
        typer.echo(
            f"exported {done.images:,} images, {done.topics:,} topics, {done.selections:,} saved "
            f"selections and {done.files:,} files to {out}"
        )

    @store_app.command("migrate")
    def migrate(ctx: typer.Context) -> None:
        """Bring a store made by an earlier picsift up to date, in place: text vectors for
        text and hybrid search (PICSIFT_TEXT_LANGUAGES), made from the stored text, the
        payload indexes of newer fields (variant groups, engagement), and each image's
        engagement (for sort=engagement), summed from its stored posts."""
        from cli.common import settings_from
        from cli.index import stage_bars, text_line
        from indexer.migrate import add_engagement
        from search import tasks

        settings = settings_from(ctx)
        with open_store(settings, command="picsift store migrate") as store:
            indexed = store.add_indexes()
            engaged = add_engagement(store)
            migrated = not store.has_text_vectors
            meta = store.add_text_vectors() if migrated else store.meta
            # Run again on a migrated store too: it finishes a migration cut short.
            with stage_bars() as progress:
                text = tasks.text(store, settings, progress)
        languages = ", ".join(meta.text_languages)
        if migrated:
            typer.echo(
                f"migrated store {settings.store} to schema {meta.schema_version}: text "
                f"vectors in {languages}"
            )
        else:
            typer.echo(
                f"store {settings.store} is at schema {meta.schema_version} (text: {languages})"
            )
        if indexed:
            typer.echo(f"payload indexes added: {', '.join(indexed)}")
        if engaged:
            typer.echo(f"engagement stored for {engaged:,} images (summed from their posts)")
        typer.echo(text_line(text))

    @store_app.command("import")
    def import_(
        ctx: typer.Context,
        src: Annotated[Path, typer.Argument(help="A file written by `picsift store export`.")],
    ) -> None:
        """Load an exported store into the configured (empty) store, e.g. a Qdrant server."""
        from cli.common import settings_from
        from cli.index import text_line
        from indexer.migrate import add_engagement
        from picsift.store.portable import import_store
        from search import tasks

        settings = settings_from(ctx)
        with open_store(settings, command="picsift store import") as store:
            done = import_store(store, settings.data_dir, src.expanduser().resolve())
            text = tasks.text(store, settings, None)
            engaged = add_engagement(store)
        typer.echo(
            f"imported {done.images:,} images, {done.topics:,} topics, {done.selections:,} "
            f"saved selections and {done.files:,} files into {settings.store}"
        )
        typer.echo(text_line(text))
        if engaged:
            typer.echo(f"engagement stored for {engaged:,} images (summed from their posts)")
