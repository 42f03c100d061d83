"""Wiring shared by commands: settings from the global flags, the encoder for a store."""

from __future__ import annotations

from typing import Any

import typer

from picsift.errors import StoreError
from picsift.settings import DEFAULT_MODEL, Settings, load_settings
from picsift.store import ImageStore


def settings_from(ctx: typer.Context) -> Settings:
    """Settings with the global CLI flags on top."""
    root = ctx.find_root()
    return load_settings(**dict(root.obj or {}))


def encoder_for(
    store: ImageStore, settings: Settings, *, batch_size: int = 32, new_store: bool = False
) -> Any:
    """The CLIP encoder of the model the store was built with (PICSIFT_MODEL must match).

    With `new_store`, an empty store is fine: its model will be PICSIFT_MODEL, else the default.
    """
    from picsift.models.encoder import ClipEncoder
    from picsift.models.runtime import choose_runtime

    if store.meta is None and not new_store:
        raise StoreError(
            f"store {store.location} is empty; index some images first: picsift index SOURCE"
        )
    if store.meta is not None and settings.model:
        store.check_model(settings.model)
    model = store.meta.model if store.meta else (settings.model or DEFAULT_MODEL)
    runtime = choose_runtime(settings.device, settings.precision)
    return ClipEncoder(
        model,
        text_model=settings.text_model,
        runtime=runtime,
        batch_size=batch_size,
        text_quantization=settings.text_quantization,
    )
