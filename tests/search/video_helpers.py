"""A media folder of two toy-shape videos and toy images, for the video tests of the API and
the CLI (indexed by the real indexer)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from picsift.models.toy import COLORS, SHAPES, render
from tests.videos import write_video

# Scenes at known times: the red circle shows from 3 s.
CLIP = [(0, "blue square"), (3, "red circle"), (7, "green triangle")]
OTHER = [(0, "yellow triangle"), (4, "red square")]
IMAGES = [(c, s) for c in COLORS for s in SHAPES if (c, s) != ("red", "circle")]


def write_media(folder: Path) -> Path:
    """clip.mp4 (CLIP, 10 s), other.mp4 (OTHER, 8 s) and one PNG of each colour and shape
    but the red circle, in `folder` (made here)."""
    folder.mkdir()
    write_video(folder / "clip.mp4", CLIP, duration=10)
    write_video(folder / "other.mp4", OTHER, duration=8, seed=1)
    rng = np.random.default_rng(4)
    for colour, shape in IMAGES:
        render(colour, shape, rng, 96).save(folder / f"{colour}-{shape}.png")
    return folder
