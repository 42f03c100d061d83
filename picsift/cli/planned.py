"""Commands owned by open issues: real names, arguments and help; no behaviour yet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from picsift.errors import PicsiftError


def _planned(command: str, issue: int) -> None:
    raise PicsiftError(f"`picsift {command}` is not yet implemented (issue #{issue})")


def register(app: typer.Typer) -> None:
    """Add the planned commands to the CLI."""

    @app.command()
    def demo(
        workdir: Annotated[Path, typer.Option(help="Where the demo corpus and store go.")] = Path(
            "picsift-demo"
        ),
        no_serve: Annotated[bool, typer.Option("--no-serve", help="Stop after fitting.")] = False,
    ) -> None:
        """Offline demo: generated corpus + toy model, index, topics, serve."""
        _planned("demo", 8)

    topics = typer.Typer(help="Fit, assign and edit visual topics.", no_args_is_help=True)
    app.add_typer(topics, name="topics")
    for verb, doc in {
        "fit": "Fit BERTopic on the stored vectors and write topic ids back.",
        "assign": "Give images without a topic the nearest fitted topic.",
        "list": "List topics with counts and labels.",
        "show": "Show one topic.",
        "rename": "Rename a topic.",
        "merge": "Merge topics.",
    }.items():
        topics.command(name=verb, help=doc)(lambda verb=verb: _planned(f"topics {verb}", 5))
