"""Model names -> what to load, and the one place models are loaded (once per process)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from picsift.errors import ModelUnavailableError
from picsift.models.toy import TOY_CAPTIONER_DIR, TOY_CLIP_DIR

TOY = "toy"
_TOYS = {"clip": TOY_CLIP_DIR, "captioner": TOY_CAPTIONER_DIR}
_cache: dict[tuple[str, ...], Any] = {}  # loaded models of any kind, by key
_lock = threading.Lock()
T = TypeVar("T")


def resolve(name: str, kind: str = "clip") -> tuple[str, str]:
    """`(what to load, model id to record)` for a model name, local directory or `toy`."""
    if name == TOY:
        return str(_TOYS[kind]), TOY
    path = Path(name).expanduser()
    if path.is_dir():
        resolved = str(path.resolve())
        return resolved, resolved
    return name, name


def hub_repo(name: str, kind: str) -> str:
    """The hub repository of a model name (sentence-transformers adds its organisation to
    bare names such as `clip-ViT-B-32`)."""
    return name if "/" in name or kind != "clip" else f"sentence-transformers/{name}"


def local_snapshot(name: str, kind: str) -> str:
    """A hub model's folder in the local cache (HF_HOME), or `name` when it is not cached.

    Loading from the cached folder skips the hub's update checks, which on a machine with a
    closed network wait for time-outs. With HF_HUB_OFFLINE set, a model that is not cached
    fails here at once instead of after those time-outs.
    """
    if Path(name).expanduser().is_dir():
        return name
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return snapshot_download(hub_repo(name, kind), local_files_only=True)
    except (LocalEntryNotFoundError, OSError, ValueError) as exc:
        if constants.HF_HUB_OFFLINE:
            raise OSError(f"not in the local cache and HF_HUB_OFFLINE is set ({exc})") from None
        return name


def checkpoint_kind(name: str) -> str:
    """What a model name or folder holds, by its config: "siglip", "siglip2" (NaFlex), or
    "clip" (sentence-transformers' CLIP folders and CLIPModel ones, which it loads). A hub
    model that is not cached here is asked about through the hub's model info, which puts
    nothing in the cache (a cached config.json alone would pass for the whole model)."""
    path = resolve(name, "clip")[0]
    try:
        folder = Path(local_snapshot(path, "clip"))
    except OSError:
        return "clip"  # not on this machine, hub offline: the CLIP loader names the fixes
    if folder.is_dir():
        try:
            config = json.loads((folder / "config.json").read_text())
        except (OSError, ValueError):
            config = {}
    else:
        config = _hub_config(path)
    model_type = config.get("model_type")
    return model_type if model_type in ("siglip", "siglip2") else "clip"


def _hub_config(name: str) -> dict[str, Any]:
    """The config the hub states for a model (empty where it states none or cannot be
    reached: the CLIP loader then tries, and names what failed)."""
    from huggingface_hub import HfApi

    try:
        return HfApi().model_info(hub_repo(name, "clip")).config or {}
    except Exception:  # whatever stops the hub answering (its HTTP client's errors included)
        return {}


def has_weights(folder: Path) -> bool:
    """Whether a model folder holds weights (or a sentence-transformers module list), not
    only a config."""
    names = ("*.safetensors", "*.bin", "modules.json")
    return folder.is_dir() and any(next(folder.glob(n), None) for n in names)


def loaded(key: tuple[str, ...]) -> Any | None:
    """What `load_once` loaded for `key`, None before that."""
    with _lock:
        return _cache.get(key)


def load_once(key: tuple[str, ...], loader: Callable[[], T], name: str, env: str) -> T:
    """Load a model with `loader()` the first time `key` is asked for; reuse it after.

    Raises:
        ModelUnavailableError: naming the model and how to get it onto this machine.
    """
    with _lock:
        if key in _cache:
            return _cache[key]
        try:
            model = loader()
        except (OSError, ValueError) as exc:
            raise ModelUnavailableError(unavailable_message(name, env, exc)) from None
        _cache[key] = model
        return model


def quiet_transformers() -> None:
    """No "Loading weights" progress bars from transformers: on every start they are noise.
    Called by the loaders that use transformers (importing it takes a second, so not here)."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def unavailable_message(name: str, env: str, exc: Exception) -> str:
    """What to do when `name` cannot be loaded (no hub access, typo, missing files)."""
    hub = hub_repo(name, "clip" if env != "PICSIFT_CAPTION_MODEL" else "captioner")
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return (
        f"cannot load model {name!r} ({env}): {first}. If this machine has no access to the "
        f"Hugging Face hub, download it elsewhere (`huggingface-cli download {hub}`) and copy "
        "the cache (HF_HOME) here, or set "
        f"{env} to a local model directory; for a quick offline try, {env}=toy uses picsift's "
        "toy model (coloured shapes only)"
    )
