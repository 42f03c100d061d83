"""Commands owned by open issues: real names, arguments and help; no behaviour yet."""

from __future__ import annotations

import typer

from picsift.errors import PicsiftError


def _planned(command: str, issue: int) -> None:
    raise PicsiftError(f"`picsift {command}` is not yet implemented (issue #{issue})")


def register(app: typer.Typer) -> None:
    """Add the planned commands to the CLI."""
