"""Model names -> what to load, and the one place models are loaded (once per process)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from picsift.errors import ModelUnavailableError
from picsift.models.toy import TOY_CAPTIONER_DIR, TOY_CLIP_DIR

TOY = "toy"
_TOYS = {"clip": TOY_CLIP_DIR, "captioner": TOY_CAPTIONER_DIR}
_cache: dict[tuple[str, ...], Any] = {}
_lock = threading.Lock()


def resolve(name: str, kind: str = "clip") -> tuple[str, str]:
    """`(what to load, model id to record)` for a model name, local directory or `toy`."""
    if name == TOY:
        return str(_TOYS[kind]), TOY
    path = Path(name).expanduser()
    if path.is_dir():
        resolved = str(path.resolve())
        return resolved, resolved
    return name, name


def load_once(key: tuple[str, ...], loader: Any, name: str, env: str) -> Any:
    """Load a model with `loader()` the first time `key` is asked for; reuse it after.

    Raises:
        ModelUnavailableError: naming the model and how to get it onto this machine.
    """
    with _lock:
        if key in _cache:
            return _cache[key]
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars on every start are noise
        try:
            model = loader()
        except (OSError, ValueError) as exc:
            raise ModelUnavailableError(unavailable_message(name, env, exc)) from None
        _cache[key] = model
        return model


def unavailable_message(name: str, env: str, exc: Exception) -> str:
    """What to do when `name` cannot be loaded (no hub access, typo, missing files)."""
    hub = name if "/" in name else f"sentence-transformers/{name}"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return (
        f"cannot load model {name!r} ({env}): {first}. If this machine has no access to the "
        f"Hugging Face hub, download it elsewhere (`huggingface-cli download {hub}`) and copy "
        "the cache (HF_HOME) here, or set "
        f"{env} to a local model directory; for a quick offline try, {env}=toy uses picsift's "
        "toy model (coloured shapes only)"
    )
