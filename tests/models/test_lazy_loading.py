"""Models, and torch with them, load when a model runs: importing picsift.models, building an
encoder or a captioner, asking the dimension or embedding nothing load none of it, and a text
query loads torch but neither sentence-transformers nor transformers."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from picsift.errors import ConfigError
from picsift.models.runtime import deferred_runtime

HEAVY = ("torch", "transformers", "sentence_transformers")
# torch code through and through, imported only once a model runs
TORCH_MODULES = {
    "picsift.models.quantized",
    "picsift.models.text_tower",
    "picsift.models.toy.train",
}


def _loaded_after(code: str) -> dict[str, bool]:
    """Which of HEAVY a fresh interpreter has imported after running `code`."""
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=300
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_picsift_models_imports_no_torch():
    code = f"""
import importlib, pkgutil, picsift.models
for module in pkgutil.walk_packages(picsift.models.__path__, "picsift.models."):
    if module.name not in {TORCH_MODULES!r}:
        importlib.import_module(module.name)
"""
    assert _loaded_after(code) == dict.fromkeys(HEAVY, False)


def test_a_run_that_embeds_nothing_loads_no_model():
    """What an index run with nothing new does: build the encoder and the captioner, ask the
    vector size, embed an empty list (its captions phase does not run)."""
    code = """
from picsift.models.captioner import Captioner
from picsift.models.encoder import ClipEncoder
encoder = ClipEncoder("toy")
assert encoder.dim == 64
assert list(encoder.embed_sources([])) == []
assert Captioner("toy").model_id == "toy"
"""
    assert _loaded_after(code) == dict.fromkeys(HEAVY, False)


@pytest.mark.parametrize("quantization", ["none", "int8"])
def test_a_text_query_loads_neither_sentence_transformers_nor_transformers(quantization):
    code = f"""
from picsift.models.encoder import ClipEncoder
from picsift.models.runtime import Runtime
fp32 = Runtime("cpu", "fp32", "test")
encoder = ClipEncoder("toy", runtime=fp32, text_quantization={quantization!r})
assert encoder.embed_texts(["red circle"]).shape == (1, 64)
assert encoder.text_description.startswith({"cpu int8" if quantization == "int8" else "cpu fp32"!r})
"""
    assert _loaded_after(code) == {
        "torch": True,
        "transformers": False,
        "sentence_transformers": False,
    }


def test_auto_is_chosen_at_first_use(monkeypatch):
    asked = []

    def no_cuda() -> bool:
        asked.append("cuda?")
        return False

    monkeypatch.setattr(torch.cuda, "is_available", no_cuda)
    chosen = deferred_runtime()
    assert asked == []
    assert chosen().device == "cpu" and chosen() is chosen()
    assert asked == ["cuda?"]


def test_a_device_named_outright_is_checked_at_once(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="PICSIFT_DEVICE=cuda"):
        deferred_runtime("cuda")
    assert deferred_runtime("cpu", "bf16")().precision == "bf16"
