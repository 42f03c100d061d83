"""The shape every long step reports progress in, whatever shows it (bars, job state)."""

from __future__ import annotations

from collections.abc import Callable

# (stage, done, total): e.g. ("embed", 320, 600)
Progress = Callable[[str, int, int], None]
