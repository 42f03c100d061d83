"""`picsift serve` (API + web UI) and `picsift export` (post-level table with topics)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from cli import filters
from cli.client import Server
from cli.display import shown
from picsift.errors import InputError, StoreLockedError
from picsift.settings import Settings, load_settings
from picsift.store import open_store


def _settings(ctx: typer.Context, **overrides) -> Settings:
    return load_settings(**{**(ctx.find_root().obj or {}), **overrides})


def _export_served(server: Server, params: list[tuple[str, str]], out: Path, manifest_path: Path):
    """Export through the running server that holds the store; returns the manifest."""
    server.download("/api/export", params, out, "the export")
    manifest = server.get("/api/export/manifest", params, "the export")
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return manifest


def register(app: typer.Typer) -> None:
    """Add the commands to the CLI."""

    @app.command()
    def serve(
        ctx: typer.Context,
        host: Annotated[
            str | None, typer.Option(help="Address to listen on [env: PICSIFT_HOST]")
        ] = None,
        port: Annotated[int | None, typer.Option(help="Port [env: PICSIFT_PORT]")] = None,
        index_root: Annotated[
            list[Path] | None,
            typer.Option(help="Folders that index jobs may read (default: this folder)."),
        ] = None,
    ) -> None:
        """Serve the search API (/api, OpenAPI at /docs) and the web UI (/)."""
        # Searches, index jobs and the web server share the cores: idle OpenMP threads must
        # sleep, not spin, or a spinning team stalls the others' every parallel region (a
        # query took 10x longer on a busy 2-core machine). Read when torch loads, so set first.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import uvicorn

        from search.app import create_app, server_url
        from search.uploads import Limits

        settings = _settings(ctx, host=host, port=port)
        roots = tuple(p.expanduser().resolve() for p in index_root or [Path.cwd()])
        for root in roots:
            if not root.is_dir():
                raise InputError(f"--index-root: {root} is not a folder")
        api = create_app(settings, limits=Limits(index_roots=roots))
        typer.echo(f"picsift serving {shown(settings.store)} at {shown(server_url(settings))}")
        uvicorn.run(api, host=settings.host, port=settings.port, log_level="info")

    @app.command()
    def export(
        ctx: typer.Context,
        out: Annotated[Path, typer.Option(help="Output file (a .manifest.json goes beside).")],
        text: Annotated[
            list[str] | None, typer.Argument(help="Rank by this query (default: no ranking).")
        ] = None,
        format: Annotated[
            str,
            typer.Option(
                help="csv or ndjson (one row per post and image), or gexf (the image-account "
                "network, for Gephi)."
            ),
        ] = "csv",
        merge: Annotated[
            str,
            typer.Option(
                help="gexf: one image node per variant group (copies of one picture) or "
                "'none': per image."
            ),
        ] = "variant",
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
        code: filters.Code = None,
        coder: filters.Coder = None,
        limit: Annotated[
            int | None,
            typer.Option(min=1, help="Images at most (with TEXT: the best N)."),
        ] = None,
        min_score: filters.MinScore = None,
        mode: filters.Mode = None,
        group_by: filters.GroupBy = None,
        columns: Annotated[
            str | None,
            typer.Option(
                help="The table's other columns to write, comma-separated (CSV headers "
                "extra.NAME, NDJSON an `extra` object). Default: all the exported posts have."
            ),
        ] = None,
    ) -> None:
        """Export a post-level table with topics (for 4CAT, pandas or R), or the image-account
        network as GEXF (for Gephi, as 4CAT's image network), plus its manifest.

        With TEXT, say where the ranking ends: --limit N (the best N) and/or --min-score S
        (a --mode text ranking ends where no word matches).
        """
        from search import export as exporting
        from search.fused import DEPTH
        from search.network import MERGES
        from search.query import SearchRequest

        if format not in ("csv", "ndjson", "gexf"):
            raise InputError(f"--format: {format!r}; use csv, ndjson or gexf")
        if merge not in MERGES:
            raise InputError(f"--merge: {merge!r}; use variant or none")
        if format == "gexf" and columns is not None:
            raise InputError("--columns: a GEXF network has no table columns; leave it out")
        if limit is not None and limit > exporting.MAX_RANKED:
            raise InputError(f"--limit: at most {exporting.MAX_RANKED:,}")
        wanted = exporting.parse_columns(columns, "--columns")
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
            code=code,
            coder=coder,
            group_by=group_by,
            min_score=min_score,
            mode=mode,
        ).validate(require_query=False)
        settings = _settings(ctx)
        manifest_path = out.with_name(out.name + ".manifest.json")
        try:
            if format == "gexf":
                manifest = _network_local(settings, request, merge, limit, out, manifest_path)
            else:
                manifest = _export_local(
                    settings, request, format, limit, wanted, out, manifest_path
                )
        except StoreLockedError as locked:
            server = Server.holding(settings, locked)
            if request.terms and limit is None and min_score is None and mode != "text":
                raise InputError(exporting.cut_message(None, exporting.CLI_CUT)) from None
            typer.echo(f"the store is served at {shown(server.url)}: exporting through its API")
            params = _params(request, format, limit, wanted)
            if format == "gexf":
                params.append(("merge", merge))
            manifest = _export_served(server, params, out, manifest_path)
        typer.echo(_wrote(manifest, out, manifest_path))
        if manifest["cut"].get("depth_reached"):
            typer.echo(
                f"warning: the {manifest['search']['mode']} ranking holds the best {DEPTH:,} "
                "images of each leg and more match: this export misses the rest (see the "
                "manifest's cut)"
            )


def _wrote(manifest: dict, out: Path, manifest_path: Path) -> str:
    """What an export wrote, in a line (and what a network left out)."""
    if "network" not in manifest:
        return (
            f"wrote {manifest['rows']:,} rows ({manifest['images']:,} images) to {shown(out)}, "
            f"manifest {shown(manifest_path)}"
        )
    graph = manifest["network"]
    nodes = ", ".join(f"{n:,} {kind}" for kind, n in graph["nodes"].items()) or "no"
    line = (
        f"wrote a network of {nodes} nodes and {graph['edges']:,} edges "
        f"({graph['posts_counted']:,} posts of {manifest['images']:,} images) to {shown(out)}, "
        f"manifest {shown(manifest_path)}"
    )
    if graph["posts_without_author"] or graph["images_not_in_graph"]:
        line += (
            f"\n{graph['posts_without_author']:,} posts name no author: no edge; "
            f"{graph['images_not_in_graph']:,} images are left with no account and not in it"
        )
    if graph["images_not_grouped"]:
        line += (
            f"\n{graph['images_not_grouped']:,} images are in no variant group yet (run "
            "`picsift variants`): each is its own node"
        )
    return line


def _service(store, settings):
    from picsift.models.factory import encoder_for
    from search.service import SearchService

    return SearchService(store, encoder_for(store, settings))


def _network_local(settings, request, merge, limit, out: Path, manifest_path: Path) -> dict:
    from search import export as exporting
    from search import manifest as methods
    from search import network

    if not out.parent.is_dir():
        raise InputError(f"--out: folder {out.parent} does not exist")
    with open_store(settings, command="picsift export") as store:
        service = _service(store, settings)
        request = exporting.checked(service, request, limit, exporting.CLI_CUT)
        counts = network.NetworkCounts()
        graph = network.network(service, request, limit, merge, counts)
        with out.open("w", encoding="utf-8") as fh:
            fh.writelines(network.gexf(graph))
        manifest = methods.network_manifest(service, settings, request, limit, counts, merge)
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return manifest


def _export_local(settings, request, fmt, limit, wanted, out: Path, manifest_path: Path) -> dict:
    from search import export as exporting
    from search import manifest as methods

    if not out.parent.is_dir():
        raise InputError(f"--out: folder {out.parent} does not exist")
    with open_store(settings, command="picsift export") as store:
        service = _service(store, settings)
        request = exporting.checked(service, request, limit, exporting.CLI_CUT)
        extra = exporting.extra_columns(service, request, limit, fmt, wanted, "--columns")
        counts = exporting.Counts()
        rows = exporting.rows(service, request, limit, counts, extra)
        with out.open("w", encoding="utf-8", newline="") as fh:
            for chunk in exporting.encode(rows, fmt, extra):
                fh.write(chunk)
        manifest = methods.manifest(service, settings, request, fmt, limit, counts, extra, wanted)
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return manifest


def _params(request, fmt: str, limit: int | None, wanted) -> list[tuple[str, str]]:
    """The API query string of an export request."""
    params = [("format", fmt)] + ([("limit", str(limit))] if limit else [])
    if wanted is not None:
        params.append(("columns", ",".join(wanted)))
    return params + request.to_params(page=False)
