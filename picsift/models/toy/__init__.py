"""Tiny offline models (a CLIP and a captioner) trained on generated coloured-shape images.

They stand in for the real checkpoints in tests and demos, in the same on-disk formats, so every
code path that loads a Hugging Face directory works without network access.
"""

from pathlib import Path

from picsift.models.toy.shapes import COLORS, SHAPES, caption, render, sample

TOY_CLIP_DIR = Path(__file__).parent / "clip"
TOY_CAPTIONER_DIR = Path(__file__).parent / "captioner"

__all__ = [
    "COLORS",
    "SHAPES",
    "TOY_CAPTIONER_DIR",
    "TOY_CLIP_DIR",
    "caption",
    "render",
    "sample",
]
