"""`picsift coders` and `picsift codes`: qualitative coding from the command line (the same
functions as the API, `search.coding`; beside a running server, through its API)."""

from __future__ import annotations

import urllib.parse
from typing import Annotated, Any

import typer

from cli.display import json_line, shown


def _call(
    ctx: typer.Context,
    command: str,
    local: Any,
    path: str,
    body: dict | None = None,
    method: str | None = None,
):
    """`local(store)` on the store, or, where a server holds it, the API `path` (GET, or
    `method` with `body`: PUT for an image's codes, else POST)."""
    from cli.client import Server, open_or_served
    from cli.common import settings_from

    opened = open_or_served(settings_from(ctx), command)
    if isinstance(opened, Server):
        if body is None:
            return opened.get(path, what=command)
        method = method or ("PUT" if "/images/" in path else "POST")
        return opened.post(path, body, command, method=method)
    with opened:
        return local(opened)


def register(app: typer.Typer) -> None:
    """Add the commands to the CLI."""
    coders_app = typer.Typer(
        help="Coders: who codes images, each with a key.", no_args_is_help=True
    )
    codes_app = typer.Typer(
        help="The codebook, codes applied to images, and the coders' agreement.",
        no_args_is_help=True,
    )
    app.add_typer(coders_app, name="coders")
    app.add_typer(codes_app, name="codes")

    @coders_app.command("add")
    def add_coder(
        ctx: typer.Context, name: Annotated[str, typer.Argument(help="The coder's name.")]
    ) -> None:
        """Add a coder and print their key (shown this once: the store keeps only its hash).
        The coder signs in to the web UI with it."""
        from search import coding

        made = _call(
            ctx,
            "picsift coders add",
            lambda store: {"name": name.strip(), "key": coding.add_coder(store, name)},
            "/api/coders",
            {"name": name},
        )
        typer.echo(f"coder {shown(made['name'])} added; their key (shown this once):")
        typer.echo(made["key"])

    @coders_app.command("rekey")
    def rekey(
        ctx: typer.Context, name: Annotated[str, typer.Argument(help="The coder's name.")]
    ) -> None:
        """Give a coder a new key (printed this once); the old key and its cookies stop
        working (also after a revoke)."""
        from search import coding

        made = _call(
            ctx,
            "picsift coders rekey",
            lambda store: {"name": name, "key": coding.new_key(store, name)},
            f"/api/coders/{urllib.parse.quote(name, safe='')}/key",
            {},
        )
        typer.echo(f"coder {shown(made['name'])} has a new key (shown this once):")
        typer.echo(made["key"])

    @coders_app.command("revoke")
    def revoke(
        ctx: typer.Context, name: Annotated[str, typer.Argument(help="The coder's name.")]
    ) -> None:
        """Take a coder's key away: they can no longer sign in or code; their codings stay."""
        from search import coding

        _call(
            ctx,
            "picsift coders revoke",
            lambda store: coding.revoke(store, name),
            f"/api/coders/{urllib.parse.quote(name, safe='')}/key",
            {},
            method="DELETE",
        )
        typer.echo(f"coder {shown(name)}'s key is revoked; their codings stay")

    @coders_app.command("list")
    def list_coders(ctx: typer.Context) -> None:
        """The coders, oldest first."""
        from search import coding

        for coder in _call(ctx, "picsift coders list", coding.coders, "/api/coders"):
            revoked = f", key revoked {coder['revoked_at'][:16]}" if coder.get("revoked_at") else ""
            typer.echo(f"{shown(coder['name'])}  added {coder['created_at'][:16]}{revoked}")

    @codes_app.command("add")
    def add_code(
        ctx: typer.Context,
        code: Annotated[str, typer.Argument(help="The code.")],
        description: Annotated[str, typer.Option(help="What the code means.")] = "",
    ) -> None:
        """Add a code to the codebook (or change its description)."""
        from search import coding

        made = _call(
            ctx,
            "picsift codes add",
            lambda store: coding.add_code(store, code, description),
            "/api/codes",
            {"code": code, "description": description},
        )
        typer.echo(f"code {shown(made['code'])} in the codebook")

    @codes_app.command("list")
    def list_codes(ctx: typer.Context) -> None:
        """The codebook."""
        from search import coding

        for code in _call(ctx, "picsift codes list", coding.codebook, "/api/codes"):
            about = f": {shown(code['description'])}" if code["description"] else ""
            typer.echo(f"{shown(code['code'])}{about}")

    @codes_app.command("apply")
    def apply(
        ctx: typer.Context,
        image: Annotated[str, typer.Argument(help="The image's id.")],
        codes: Annotated[
            list[str] | None, typer.Argument(help="Its codes (none: seen, not applied).")
        ] = None,
        coder: Annotated[str, typer.Option(help="The coder this coding is by.")] = ...,
    ) -> None:
        """Record a coder's codes for an image, replacing theirs (logged with the time)."""
        from search import coding

        done = _call(
            ctx,
            "picsift codes apply",
            lambda store: coding.code_image(store, image, coder, list(codes or [])),
            f"/api/images/{urllib.parse.quote(image, safe='')}/codes",
            {"codes": list(codes or []), "coder": coder},
        )
        given = ", ".join(map(shown, done["codes"])) or "none (seen, not applied)"
        typer.echo(f"{shown(done['coder'])} coded {done['image_id']}: {given}")

    @codes_app.command("agreement")
    def agreement(
        ctx: typer.Context,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """Per code, Krippendorff's alpha over the images two or more coders saw, and the
        images they disagree on."""
        from search import coding

        found = _call(ctx, "picsift codes agreement", coding.agreement, "/api/codes/agreement")
        if as_json:
            typer.echo(json_line(found))
            return
        coders = ", ".join(map(shown, found["coders"])) or "none"
        typer.echo(f"{found['images']:,} images seen by two or more coders ({coders})")
        for code in found["codes"]:
            alpha = "undefined" if code["alpha"] is None else f"{code['alpha']:.3f}"
            typer.echo(
                f"{shown(code['code'])}: alpha {alpha}, applied {code['applied']:,} times "
                f"({code['applied_shared']:,} on the shared images), "
                f"{len(code['disagreements']):,} images to resolve"
            )
            for case in code["disagreements"]:
                by = ", ".join(map(shown, case["applied_by"]))
                not_by = ", ".join(map(shown, case["not_applied_by"]))
                typer.echo(f"    {case['image_id']}: applied by {by}; not by {not_by}")
