"""Deterministic generator of coloured-shape images, the toy models' whole world.

Every image shows one shape (circle, square or triangle) in one colour (red, green, blue or
yellow) on a neutral background, so each image has exactly one true caption, "a red circle".
"""

import numpy as np
from PIL import Image, ImageDraw

COLORS = ("red", "green", "blue", "yellow")
SHAPES = ("circle", "square", "triangle")

_BASE_RGB = {
    "red": (215, 30, 40),
    "green": (35, 165, 50),
    "blue": (35, 70, 215),
    "yellow": (230, 205, 35),
}
_COLOR_JITTER = 15
_TINT_JITTER = 10
_NOISE_SIGMA = 6.0


def caption(color: str, shape: str) -> str:
    """Return the canonical caption of a shape image.

    Args:
        color: One of `COLORS`.
        shape: One of `SHAPES`.

    Returns:
        The caption, e.g. ``"a red circle"``.

    Raises:
        ValueError: If the colour or the shape is unknown.
    """
    if color not in COLORS or shape not in SHAPES:
        raise ValueError(f"unknown colour or shape: {color!r}, {shape!r}")
    return f"a {color} {shape}"


def _foreground(color: str, rng: np.random.Generator) -> tuple[int, int, int]:
    jitter = rng.integers(-_COLOR_JITTER, _COLOR_JITTER + 1, size=3)
    rgb = np.clip(np.array(_BASE_RGB[color]) + jitter, 0, 255)
    return tuple(int(v) for v in rgb)


def _background(rng: np.random.Generator) -> tuple[int, int, int]:
    # A grey level plus a small tint keeps the background near-neutral, never a target colour.
    level = int(rng.integers(25, 226))
    tint = rng.integers(-_TINT_JITTER, _TINT_JITTER + 1, size=3)
    return tuple(int(v) for v in np.clip(level + tint, 0, 255))


def _polygon(shape: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    if shape == "square":
        corners = np.deg2rad(np.array([45.0, 135.0, 225.0, 315.0]) + angle)
        radius = r * np.sqrt(2.0)
    else:
        corners = np.deg2rad(np.array([-90.0, 30.0, 150.0]) + angle)
        radius = r * 1.15
    return [(cx + radius * np.cos(a), cy + radius * np.sin(a)) for a in corners]


def render(color: str, shape: str, rng: np.random.Generator, size: int = 64) -> Image.Image:
    """Draw one shape of one colour at a random size and position.

    Args:
        color: One of `COLORS`.
        shape: One of `SHAPES`.
        rng: Source of all randomness, so equal generator states give equal images.
        size: Width and height of the square image, in pixels.

    Returns:
        An RGB image of ``size`` x ``size`` pixels.

    Raises:
        ValueError: If the colour or the shape is unknown.
    """
    caption(color, shape)
    fill = _foreground(color, rng)
    image = Image.new("RGB", (size, size), _background(rng))
    r = size * rng.uniform(0.16, 0.30)
    margin = r * 1.2
    cx, cy = rng.uniform(margin, size - margin, size=2)
    angle = rng.uniform(-12.0, 12.0)
    draw = ImageDraw.Draw(image)
    if shape == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
    else:
        draw.polygon(_polygon(shape, cx, cy, r, angle), fill=fill)
    pixels = np.asarray(image, dtype=np.float32)
    pixels += rng.normal(0.0, _NOISE_SIGMA, size=pixels.shape).astype(np.float32)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def sample(n: int, seed: int, size: int = 64) -> list[tuple[Image.Image, str, str]]:
    """Render ``n`` random shape images, balanced over the 12 colour-shape classes.

    Classes are drawn in shuffled rounds of 12, so any multiple of 12 images holds every class
    equally often.

    Args:
        n: Number of images.
        seed: Seed of the generator; equal seeds give equal images.
        size: Width and height of each image, in pixels.

    Returns:
        A list of ``(image, color, shape)`` triples.
    """
    rng = np.random.default_rng(seed)
    classes = [(color, shape) for color in COLORS for shape in SHAPES]
    out: list[tuple[Image.Image, str, str]] = []
    while len(out) < n:
        for k in rng.permutation(len(classes))[: n - len(out)]:
            color, shape = classes[k]
            out.append((render(color, shape, rng, size), color, shape))
    return out
