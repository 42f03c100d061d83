"""Wiring shared by commands: settings from the global flags, the encoder for a store."""

from __future__ import annotations

from typing import Any

import typer

from picsift.errors import StoreError
from picsift.settings import Settings, load_settings
from picsift.store import ImageStore


def settings_from(ctx: typer.Context) -> Settings:
    """Settings with the global CLI flags on top."""
    root = ctx.find_root()
    return load_settings(**dict(root.obj or {}))


def encoder_for(store: ImageStore, settings: Settings) -> Any:
    """The CLIP encoder of the model the store was built with (PICSIFT_MODEL must match)."""
    from picsift.models.encoder import ClipEncoder
    from picsift.models.runtime import choose_runtime

    if store.meta is None:
        raise StoreError(
            f"store {store.location} is empty; index some images first: picsift index SOURCE"
        )
    if settings.model:
        store.check_model(settings.model)
    runtime = choose_runtime(settings.device, settings.precision)
    return ClipEncoder(store.meta.model, text_model=settings.text_model, runtime=runtime)
