"""Wiring shared by commands: settings from the global flags."""

from __future__ import annotations

import typer

from picsift.settings import Settings, load_settings


def settings_from(ctx: typer.Context) -> Settings:
    """Settings with the global CLI flags on top."""
    root = ctx.find_root()
    return load_settings(**dict(root.obj or {}))
