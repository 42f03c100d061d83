"""Models picsift knows, with their vector size and the languages their authors say they read,
and where a model of any name stands on this machine (`picsift models`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from picsift.errors import PicsiftError
from picsift.models.registry import TOY, checkpoint_kind, has_weights, local_snapshot, resolve

KINDS = {"clip": "CLIP", "siglip": "SigLIP", "siglip2": "SigLIP 2 NaFlex (not supported yet)"}


@dataclass(frozen=True)
class KnownModel:
    """A model and what its authors publish about it."""

    name: str
    kind: str
    dim: int
    languages: str
    role: str = "images and texts"


KNOWN = (
    KnownModel(
        "clip-ViT-B-32",
        "CLIP",
        512,
        "English (OpenAI's CLIP model card: trained and evaluated on English only)",
    ),
    KnownModel(
        "sentence-transformers/clip-ViT-B-32-multilingual-v1",
        "CLIP text",
        512,
        "50+ languages (its model card), texts only",
        role="texts for clip-ViT-B-32's images (PICSIFT_TEXT_MODEL)",
    ),
    KnownModel(
        "google/siglip-base-patch16-224",
        "SigLIP",
        768,
        "English (SigLIP's English WebLI pairs; a multilingual SigLIP is a separate model)",
    ),
    KnownModel(
        "google/siglip2-base-patch16-224",
        "SigLIP",
        768,
        "multilingual (SigLIP 2 paper: WebLI with 10% non-English pairs, Gemma tokenizer)",
    ),
    KnownModel(TOY, "CLIP", 64, "none: coloured toy shapes only (picsift's test model)"),
)


def on_this_machine(name: str) -> bool:
    """Whether the model's files are here (a folder, picsift's toy, or the hub cache)."""
    path = resolve(name, "clip")[0]
    try:
        return has_weights(Path(local_snapshot(path, "clip")))
    except OSError:
        return False


def describe(name: str) -> dict[str, Any]:
    """What is known of a model name or folder: the published facts where picsift knows it,
    else its kind and vector size read from its config (None where its files are not here)."""
    known = next((k for k in KNOWN if k.name == name), None)
    here = on_this_machine(name)
    if known is not None:
        return asdict(known) | {"here": here}
    kind = KINDS[checkpoint_kind(name)] if here else None
    return {
        "name": name,
        "kind": kind,
        "dim": _config_dim(name) if here else None,
        "languages": None,
        "role": "images and texts",
        "here": here,
    }


def _config_dim(name: str) -> int | None:
    """The vector size the model gives, as the index would record it (None where it cannot
    be had: a kind picsift does not load, a folder it cannot read)."""
    from picsift.models.factory import make_encoder
    from picsift.settings import Settings

    try:
        return make_encoder(name, Settings(model=None, text_model=None)).dim
    except PicsiftError:
        return None
