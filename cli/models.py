"""`picsift models`: the models picsift knows and the one configured, with vector sizes, the
languages their authors say they read, and whether their files are on this machine; `picsift
reembed MODEL`: the store's images embedded again with another one."""

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

    @app.command()
    def reembed(
        ctx: typer.Context,
        model: Annotated[str, typer.Argument(help="The new model: a hub name or a folder.")],
        drop_unreadable: Annotated[
            bool,
            typer.Option(
                help="Switch even when some images have neither a readable original nor a "
                "thumbnail; they leave the store (and are listed)."
            ),
        ] = False,
    ) -> None:
        """Embed every image again with another model and switch the store to it: posts,
        topics, tags, OCR and captions are kept; text vectors are made again. Stop `picsift
        serve` first. Cut short, it goes on where it stopped when run again."""
        from cli.common import settings_from
        from cli.progress import Bars
        from picsift.store import open_store
        from search import tasks

        settings = settings_from(ctx)
        with (
            open_store(settings, command="picsift reembed") as store,
            Bars(stages={"reembed", "text", "search index"}) as bars,
        ):
            done = tasks.reembed(store, settings, model, bars, drop_unreadable=drop_unreadable)
        for line in _reembed_lines(done, settings):
            typer.echo(line)


def _reembed_lines(done: dict[str, Any], settings: Any) -> list[str]:
    """What `picsift reembed` did, and what it leaves to the researcher."""
    from cli.index import text_line

    model, previous = shown(done["model"]), shown(done["previous"])
    thumbs = done["from_thumbnail"]
    lines = [
        f"re-embedded {done['images']:,} images with {model} (was {previous}); "
        f"{thumbs:,} from their thumbnails, as their originals could not be read"
    ]
    topics = done["topics"]
    if topics["topics"]:
        lines.append(
            f"topics: {topics['topics']:,} topic vectors moved to the new model; run "
            f"{topics['run']} places new images by {topics['reference']:,} of its images. "
            f"The topics themselves are still those fitted on {previous}: picsift topics fit "
            "makes them from the new vectors"
        )
    lines += [f"dropped {d['id']}: {d['reason']}" for d in done["dropped"]]
    lines.append(text_line(done["text"]))
    if (settings.data_dir / "tags.json").is_file():
        lines.append(f"tags (picsift tag) were scored by {previous}: tag again with the new model")
    if settings.model and settings.model != done["model"]:
        lines.append(
            f"PICSIFT_MODEL is set to {shown(settings.model)}: set it to {model} or unset it, "
            "or the next command refuses the store"
        )
    return lines
