"""Models from settings, in one place: the store's encoder (CLIP or SigLIP) and the captioner."""

from __future__ import annotations

from typing import TYPE_CHECKING

from picsift.errors import ConfigError, StoreError
from picsift.settings import DEFAULT_MODEL, Settings
from picsift.store import ImageStore, StoreMeta

if TYPE_CHECKING:
    from picsift.models.captioner import Captioner
    from picsift.models.protocols import Encoder


def store_model(meta: StoreMeta | None, settings: Settings) -> str:
    """The model a store's vectors are of: the store's own, else PICSIFT_MODEL (a new store),
    else the default."""
    return meta.model if meta else (settings.model or DEFAULT_MODEL)


def encoder_for(
    store: ImageStore, settings: Settings, *, batch_size: int = 32, new_store: bool = False
) -> Encoder:
    """The encoder of the model the store was built with (PICSIFT_MODEL must match).

    With `new_store`, an empty store is fine: its model will be PICSIFT_MODEL, else the default.

    Raises:
        StoreError: an empty store without `new_store`, or PICSIFT_MODEL not the store's model.
    """
    if store.meta is None and not new_store:
        raise StoreError(
            f"store {store.location} is empty; index some images first: picsift index SOURCE"
        )
    if store.meta is not None and settings.model:
        store.check_model(settings.model)
    return make_encoder(store_model(store.meta, settings), settings, batch_size=batch_size)


def make_encoder(name: str, settings: Settings, *, batch_size: int = 32) -> Encoder:
    """The encoder of a model name or folder, by what its checkpoint holds: SigLIP (and
    SigLIP 2's fixed-resolution models) through `SiglipEncoder`, CLIP (sentence-transformers
    or CLIPModel folders) through `ClipEncoder`.

    Raises:
        ConfigError: a SigLIP 2 NaFlex checkpoint, or settings that apply to CLIP only.
    """
    from picsift.models.encoder import ClipEncoder
    from picsift.models.registry import checkpoint_kind
    from picsift.models.runtime import deferred_runtime

    runtime = deferred_runtime(settings.device, settings.precision)
    kind = checkpoint_kind(name)
    if kind == "siglip2":
        raise ConfigError(
            f"PICSIFT_MODEL {name!r} is a SigLIP 2 NaFlex checkpoint (Siglip2Model), not "
            "supported yet; use a fixed-resolution one, e.g. google/siglip2-base-patch16-224"
        )
    if kind == "siglip":
        from picsift.models.siglip import SiglipEncoder

        if settings.text_model:
            raise ConfigError(
                "PICSIFT_TEXT_MODEL pairs a text model with a CLIP image model; the SigLIP "
                f"model {name!r} has its own text tower: unset it"
            )
        if settings.text_quantization == "int8":
            raise ConfigError(
                "PICSIFT_TEXT_QUANTIZATION=int8 is for CLIP text towers; a SigLIP text tower "
                "runs as its images do: set it to auto or none"
            )
        return SiglipEncoder(name, runtime=runtime, batch_size=batch_size)
    return ClipEncoder(
        name,
        text_model=settings.text_model,
        runtime=runtime,
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
