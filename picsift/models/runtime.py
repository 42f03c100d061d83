"""Where and in which precision models run: CUDA when present, bf16 autocast on CPUs that have
native bf16 (AVX512-BF16 or AMX), fp32 elsewhere. Overridable with PICSIFT_DEVICE/PRECISION.

torch is imported where it is asked (CUDA, autocast, threads), not with this module: commands that
build an encoder but run no model (an index run that finds nothing new) do not pay for it.
"""

from __future__ import annotations

import contextlib
import os
import platform
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from picsift.errors import ConfigError

if TYPE_CHECKING:
    import torch

_DTYPES = {"fp32": None, "bf16": "bfloat16", "fp16": "float16"}  # torch dtype names


@dataclass(frozen=True)
class Runtime:
    """A device, an autocast precision, and why they were chosen."""

    device: str
    precision: str
    reason: str

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        """dtype for `torch.autocast`, None for plain fp32."""
        name = _DTYPES[self.precision]
        if name is None:
            return None
        import torch

        return getattr(torch, name)

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        """Run the enclosed inference in this runtime's precision."""
        dtype = self.autocast_dtype
        if dtype is None:
            yield
            return
        import torch

        with torch.autocast(device_type=self.device.split(":")[0], dtype=dtype):
            yield


@cache
def cpu_flags() -> frozenset[str]:
    """CPU feature flags from /proc/cpuinfo (empty where there is none, e.g. macOS)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def native_bf16() -> str | None:
    """The CPU feature that makes bf16 fast here, or None."""
    flags = cpu_flags()
    for flag in ("amx_bf16", "avx512_bf16"):
        if flag in flags:
            return flag
    if platform.machine() in {"arm64", "aarch64"} and "bf16" in flags:
        return "bf16"
    return None


def choose_runtime(device: str = "auto", precision: str = "auto") -> Runtime:
    """Pick device and precision from the settings (`auto` detects).

    Raises:
        ConfigError: a device was asked for that this machine does not have.
    """
    if device != "cpu":  # a CPU runtime is chosen without torch
        import torch
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    elif device == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            "PICSIFT_DEVICE=cuda but torch sees no CUDA device; set PICSIFT_DEVICE=cpu or auto"
        )
    elif device == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("PICSIFT_DEVICE=mps but MPS is not available; set PICSIFT_DEVICE=auto")
    if precision != "auto":
        return Runtime(device, precision, f"PICSIFT_PRECISION={precision}")
    if device == "cuda":
        bf16 = torch.cuda.is_bf16_supported()
        return Runtime(device, "bf16" if bf16 else "fp16", "CUDA autocast")
    if device == "cpu":
        feature = native_bf16()
        if feature:
            return Runtime(device, "bf16", f"CPU has native bf16 ({feature})")
        return Runtime(device, "fp32", "CPU has no native bf16 (no AVX512-BF16/AMX): fp32")
    return Runtime(device, "fp32", f"{device}: fp32")


def deferred_runtime(device: str = "auto", precision: str = "auto") -> Callable[[], Runtime]:
    """`choose_runtime(device, precision)`, made on the first call and kept.

    Choosing `auto` asks torch whether there is CUDA, so a model holder given this instead of a
    Runtime imports torch only once a model runs. Any other device is chosen now (a CPU without
    torch): a device this machine lacks fails at start, not after an index run's listing.
    """
    if device != "auto":
        chosen = choose_runtime(device, precision)
        return lambda: chosen
    return cache(lambda: choose_runtime(device, precision))


def configure_threads() -> int:
    """Use every core this process may run on for torch's intra-op pool."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    import torch

    torch.set_num_threads(cores)
    return cores
