"""`picsift models`: the models picsift knows and the one configured, with vector sizes, the
languages their authors say they read, and whether their files are on this machine."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.display import json_line, shown


def _rows(settings: Any) -> tuple[list[dict[str, Any]], str | None, str | None]:
    """Every known model plus the configured and the store's ones, and those two names."""
    from picsift.models.known import KNOWN, describe

    configured, stored = settings.model, _store_model(settings)
    names = [k.name for k in KNOWN]
    names += [n for n in (configured, stored, settings.text_model) if n and n not in names]
    return [describe(name) for name in names], configured, stored


def _store_model(settings: Any) -> str | None:
    """The model of the settings' store (None where there is no store or it is empty)."""
    from cli.client import Server, open_or_served
    from picsift.errors import PicsiftError

    try:
        opened = open_or_served(settings, "picsift models")
        if isinstance(opened, Server):
            return opened.get("/api/status", what="the status")["model"] or None
    except PicsiftError:  # no store there, or a server that does not answer: none to mark
        return None
    with opened:
        return opened.meta.model if opened.meta else None


def _line(row: dict[str, Any], configured: str | None, stored: str | None) -> str:
    named = (("configured", configured), ("the store's", stored))
    marks = [mark for mark, name in named if name == row["name"]]
    dim = f"{row['dim']}-d" if row["dim"] else "size unknown"
    where = "files here" if row["here"] else "not on this machine (needs the hub once)"
    tags = f" [{', '.join(marks)}]" if marks else ""
    body = f"{row['kind'] or 'unknown kind'}, {dim}, {row['role']}; {where}"
    languages = f"\n    languages: {row['languages']}" if row["languages"] else ""
    return f"{shown(row['name'])}{tags}\n    {body}{languages}"


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""

    @app.command()
    def models(
        ctx: typer.Context,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """List the models picsift knows and the one configured (PICSIFT_MODEL, the store's):
        kind, vector size, languages as their authors publish them, whether they are here."""
        from cli.common import settings_from

        settings = settings_from(ctx)
        rows, configured, stored = _rows(settings)
        if as_json:
            typer.echo(json_line({"configured": configured, "store": stored, "models": rows}))
            return
        for row in rows:
            typer.echo(_line(row, configured, stored))
        if configured is None and stored is None:
            typer.echo("configured: none (a new store takes clip-ViT-B-32; set PICSIFT_MODEL)")
