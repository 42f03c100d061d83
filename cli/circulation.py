"""`picsift circulation`: the variant groups (copies of one picture) by how far they spread."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.display import json_line, shown


def _line(group: dict[str, Any]) -> str:
    seen = (
        f"{group['first_seen'][:10]} to {group['last_seen'][:10]}"
        if group["first_seen"]
        else "no post times"
    )
    engagement = ", ".join(
        f"{metric} {total:,} ({group['engagement_posts'][metric]:,} posts)"
        for metric, total in group["engagement"].items()
    )
    return (
        f"{group['variant']}: {group['images']:,} images, {group['posts']:,} posts, "
        f"{group['accounts']:,} accounts, {seen}; {', '.join(map(shown, group['datasets']))}"
        + (f"\n    {engagement}" if engagement else "")
    )


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""

    @app.command()
    def circulation(
        ctx: typer.Context,
        sort: Annotated[
            str, typer.Option(help="posts, accounts, images, engagement or first_seen.")
        ] = "posts",
        limit: Annotated[int, typer.Option(min=1, max=1000, help="Groups at most.")] = 20,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """The variant groups of two or more images by spread: posts, accounts, images,
        engagement (likes, comments, shares; each sum says over how many posts), first seen.
        `picsift export --variant ID` writes a group's posts."""
        from cli.client import Server, open_or_served
        from cli.common import settings_from
        from picsift.errors import InputError
        from search.circulation import SORTS
        from search.circulation import circulation as spread

        if sort not in SORTS:
            raise InputError(f"--sort: must be one of {', '.join(SORTS)}, got {sort!r}")
        settings = settings_from(ctx)
        opened = open_or_served(settings, "picsift circulation")
        if isinstance(opened, Server):
            params = [("sort", sort), ("limit", str(limit))]
            done = opened.get("/api/variants", params, what="the variant groups")
        else:
            with opened:
                done = spread(opened, sort, limit)
        if as_json:
            typer.echo(json_line(done))
            return
        typer.echo(f"{done['total']:,} groups of two or more images; by {sort}:")
        for group in done["groups"]:
            typer.echo(_line(group))
