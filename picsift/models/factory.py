"""Models from settings, in one place: the store's CLIP encoder and the captioner."""

from __future__ import annotations

from typing import TYPE_CHECKING

from picsift.errors import StoreError
from picsift.settings import DEFAULT_MODEL, Settings
from picsift.store import ImageStore, StoreMeta

if TYPE_CHECKING:
    from picsift.models.captioner import Captioner
    from picsift.models.encoder import ClipEncoder


def store_model(meta: StoreMeta | None, settings: Settings) -> str:
    """The model a store's vectors are of: the store's own, else PICSIFT_MODEL (a new store),
    else the default."""
    return meta.model if meta else (settings.model or DEFAULT_MODEL)


def encoder_for(
    store: ImageStore, settings: Settings, *, batch_size: int = 32, new_store: bool = False
) -> ClipEncoder:
    """The CLIP encoder of the model the store was built with (PICSIFT_MODEL must match).

    With `new_store`, an empty store is fine: its model will be PICSIFT_MODEL, else the default.

    Raises:
        StoreError: an empty store without `new_store`, or PICSIFT_MODEL not the store's model.
    """
    from picsift.models.encoder import ClipEncoder
    from picsift.models.runtime import deferred_runtime

    if store.meta is None and not new_store:
        raise StoreError(
            f"store {store.location} is empty; index some images first: picsift index SOURCE"
        )
    if store.meta is not None and settings.model:
        store.check_model(settings.model)
    return ClipEncoder(
        store_model(store.meta, settings),
        text_model=settings.text_model,
        runtime=deferred_runtime(settings.device, settings.precision),
        batch_size=batch_size,
        text_quantization=settings.text_quantization,
    )


def captioner_for(settings: Settings) -> Captioner | None:
    """The captioner of PICSIFT_CAPTION_MODEL, None when captions are off."""
    from picsift.models.captioner import Captioner
    from picsift.models.runtime import deferred_runtime

    if not settings.caption_enabled:
        return None
    return Captioner(settings.caption_model, deferred_runtime(settings.device, settings.precision))
