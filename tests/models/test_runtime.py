"""Device and precision choice."""

from __future__ import annotations

import pytest
import torch

from picsift.errors import ConfigError
from picsift.models import runtime
from picsift.models.runtime import choose_runtime


def test_bf16_where_the_cpu_has_it(monkeypatch):
    monkeypatch.setattr(runtime, "cpu_flags", lambda: frozenset({"avx2", "avx512_bf16"}))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    chosen = choose_runtime()
    assert (chosen.device, chosen.precision) == ("cpu", "bf16")
    assert "avx512_bf16" in chosen.reason


def test_fp32_where_it_does_not(monkeypatch):
    monkeypatch.setattr(runtime, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    monkeypatch.setattr(runtime.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    chosen = choose_runtime()
    assert chosen.precision == "fp32" and chosen.autocast_dtype is None
    assert "no native bf16" in chosen.reason


def test_explicit_precision_wins(monkeypatch):
    monkeypatch.setattr(runtime, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    assert choose_runtime("cpu", "fp32").precision == "fp32"
    assert choose_runtime("cpu", "bf16").autocast_dtype == torch.bfloat16


def test_missing_cuda_is_a_config_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="PICSIFT_DEVICE=cuda"):
        choose_runtime("cuda")


def test_autocast_runs_in_the_chosen_dtype():
    layer = torch.nn.Linear(4, 4)
    with torch.inference_mode(), choose_runtime("cpu", "bf16").autocast():
        assert layer(torch.ones(1, 4)).dtype == torch.bfloat16
    with torch.inference_mode(), choose_runtime("cpu", "fp32").autocast():
        assert layer(torch.ones(1, 4)).dtype == torch.float32
