"""`picsift selections`: save a view's images under a name, list, show and delete them
(`--selection NAME` on search and export keeps a selection's images)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli import filters
from cli.display import json_line, shown

SOURCES_HELP = (
    "search (TEXT and the filters; the default), or with --ids-file: picked (its default), map, "
    "similar, upload."
)


def _line(selection: dict[str, Any]) -> str:
    present = selection["present"]
    gone = (
        f" ({selection['images'] - present:,} no longer in the store)"
        if present is not None and present < selection["images"]
        else ""
    )
    about = f": {shown(selection['description'])}" if selection["description"] else ""
    return (
        f"{shown(selection['name'])}  {selection['images']:,} images{gone}, "
        f"{selection['source']}, saved {selection['created_at'][:16]} by "
        f"{shown(selection['created_by'])}{about}"
    )


def _ids(path: Path) -> list[str]:
    """Image ids from a file, one a line (blank lines and `#` comments skipped).

    Raises:
        InputError: naming --ids-file when it cannot be read.
    """
    from picsift.errors import InputError

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--ids-file: cannot read {shown(str(path))} ({exc})") from None
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def register(app: typer.Typer) -> None:
    """Add the commands to the CLI."""
    selections_app = typer.Typer(
        help="Saved selections: a view's images kept under a name.", no_args_is_help=True
    )
    app.add_typer(selections_app, name="selections")

    @selections_app.command("save")
    def save(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="The selection's name.")],
        text: Annotated[
            list[str] | None, typer.Argument(help="Rank by this query (source search).")
        ] = None,
        ids_file: Annotated[
            Path | None, typer.Option(help="Image ids, one a line (sources other than search).")
        ] = None,
        source: Annotated[str | None, typer.Option(help=SOURCES_HELP, show_default=False)] = None,
        description: Annotated[str, typer.Option(help="What the selection is.")] = "",
        replace: Annotated[bool, typer.Option(help="Overwrite one of the same name.")] = False,
        not_: filters.Not = None,
        topic: filters.Topic = None,
        exclude_topic: filters.ExcludeTopic = None,
        dataset: filters.Dataset = None,
        author: filters.Author = None,
        tag: filters.Tag = None,
        keyword: filters.Keyword = None,
        date_from: filters.DateFrom = None,
        date_to: filters.DateTo = None,
        variant: filters.Variant = None,
        selection: filters.Selection = None,
        limit: Annotated[int | None, typer.Option(min=1, help="With TEXT: the best N.")] = None,
        min_score: filters.MinScore = None,
        mode: filters.Mode = None,
        group_by: filters.GroupBy = None,
    ) -> None:
        """Save the images of a search view (TEXT, filters and cut, as `picsift export`
        selects them: a ranking needs --limit and/or --min-score), or of --ids-file, under
        NAME. Its images are frozen when it is saved."""
        from cli.client import Server, open_or_served
        from cli.common import settings_from
        from picsift.errors import InputError
        from picsift.models.factory import encoder_for
        from search import selections
        from search.query import SearchRequest
        from search.service import SearchService

        request = SearchRequest.from_options(
            q=[" ".join(text)] if text else None,
            not_=not_,
            text=keyword,
            topic=topic,
            exclude_topic=exclude_topic,
            dataset=dataset,
            author=author,
            tag=tag,
            date_from=date_from,
            date_to=date_to,
            variant=variant,
            selection=selection,
            group_by=group_by,
            min_score=min_score,
            mode=mode,
        ).validate(require_query=False)
        source = source or ("picked" if ids_file is not None else "search")
        if source == "search" and ids_file is not None:
            raise InputError(
                "--ids-file: a search selection is its query and filters; give "
                "--source picked (or map, similar, upload) to save the ids"
            )
        if source != "search" and (request != SearchRequest() or limit is not None):
            raise InputError(
                f"--source: a {source} selection is its ids; leave TEXT, --limit and the "
                "filters out"
            )
        if source != "search" and ids_file is None:
            raise InputError(f"--ids-file: a {source} selection needs the ids of its images")
        ids = _ids(ids_file) if ids_file is not None else None
        body: dict[str, Any] = {
            "name": name,
            "source": source,
            "description": description,
            "replace": replace,
        }
        settings = settings_from(ctx)
        opened = open_or_served(settings, "picsift selections save")
        if isinstance(opened, Server):
            params: list[tuple[str, str]] = []
            if source == "search":
                params = request.to_params(page=False)
                params += [("limit", str(limit))] if limit else []
            else:
                body["ids"] = ids
            made = opened.post("/api/selections", body, "the selection", params=params)
        else:
            with opened:
                service = SearchService(opened, encoder_for(opened, settings))
                if source == "search":
                    kept = selections.save(
                        service, name, "search", request=request, limit=limit, **_rest(body)
                    )
                else:
                    kept = selections.save(service, name, source, ids=ids, **_rest(body))
                made = kept.summary(len(kept.ids))
        typer.echo(f"saved {_line(made)}")

    @selections_app.command("list")
    def list_(
        ctx: typer.Context,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """The saved selections, newest first."""
        found = _read(ctx, None)
        if as_json:
            typer.echo(json_line(found))
            return
        typer.echo(f"{len(found):,} saved selections")
        for selection in found:
            typer.echo(_line(selection))

    @selections_app.command("show")
    def show(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="The selection's name.")],
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """A selection: what it holds and how it was made, then its image ids, one a line."""
        found = _read(ctx, name)
        if as_json:
            typer.echo(json_line(found))
            return
        typer.echo(_line(found))
        typer.echo(f"view: {shown(json_line(found['view']))}")
        for image in found["ids"]:
            typer.echo(image)

    @selections_app.command("delete")
    def delete(
        ctx: typer.Context, name: Annotated[str, typer.Argument(help="The selection's name.")]
    ) -> None:
        """Delete a selection (its images stay in the store)."""
        from cli.client import Server, open_or_served
        from cli.common import settings_from
        from search import selections

        opened = open_or_served(settings_from(ctx), "picsift selections delete")
        if isinstance(opened, Server):
            path = f"/api/selections/{_quoted(name)}"
            opened.post(path, {}, "the deletion", method="DELETE")
        else:
            with opened:
                selections.delete(opened, name)
        typer.echo(f"deleted selection {shown(name)}")


def _rest(body: dict[str, Any]) -> dict[str, Any]:
    return {"description": body["description"], "replace": body["replace"]}


def _quoted(name: str) -> str:
    import urllib.parse

    return urllib.parse.quote(name, safe="")


def _read(ctx: typer.Context, name: str | None) -> Any:
    """The list of selections (`name` None), or one selection in full."""
    from cli.client import Server, open_or_served
    from cli.common import settings_from
    from search import selections

    opened = open_or_served(settings_from(ctx), "picsift selections")
    if isinstance(opened, Server):
        path = "/api/selections" + (f"/{_quoted(name)}" if name is not None else "")
        return opened.get(path, what="the selections")
    with opened:
        if name is None:
            return selections.listed(opened)
        found = selections.load(opened, name)
        return found.summary(selections.present(opened, found)) | {
            "ids": found.ids,
            "view": found.view,
        }
