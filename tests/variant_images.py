"""Photo-like pictures with variants and look-alikes, for the variant-group tests and
`bench/variants.py` (the toy shapes are too plain for hashes and keypoints).

A picture is a scene (its composition: a light gradient, a palette, a few objects at their
places) rendered with its own surface texture and grain. A variant is the same picture
re-encoded, resized, cropped up to 15% a side, overlaid with meme text or colour-shifted (one
to three of these). A look-alike is another picture of the same scene: the objects moved a few
percent, other textures, other grain, as two photos of one subject are.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont

WIDTH, HEIGHT = 640, 512
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
WORDS = ["WHEN", "THE", "NEWS", "SAYS", "NOTHING", "CHANGED", "BUT", "EVERYONE", "KNOWS", "WAHR"]


def _noise(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Smooth noise in [0, 1]: a `cells` x `cells` random grid, upsampled bicubically."""
    grid = Image.fromarray((rng.random((cells, cells)) * 255).astype(np.uint8))
    return np.asarray(grid.resize(shape[::-1], Image.Resampling.BICUBIC), np.float32) / 255.0


def _texture(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Detail at several scales, the part of a picture only it has."""
    return sum(_noise(rng, shape, cells) / (i + 1) for i, cells in enumerate((24, 64, 160)))


def picture(scene: int, take: int = 0) -> Image.Image:
    """Take `take` of scene `scene`: takes of one scene are look-alikes, not the same picture."""
    layout = np.random.default_rng(scene)
    rng = np.random.default_rng(10_000 * scene + take + 1)
    h, w = HEIGHT, WIDTH
    palette = layout.integers(20, 235, size=(4, 3)).astype(np.float32)
    light = _noise(layout, (h, w), 3)[..., None]
    image = palette[0] * (1 - light) + palette[1] * light
    image += (_texture(rng, (h, w))[..., None] - 0.9) * 60.0
    canvas = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    for _ in range(int(layout.integers(4, 8))):
        cx, cy = layout.random() * w, layout.random() * h
        size = layout.uniform(0.08, 0.22) * w
        color = tuple(int(c) for c in layout.integers(20, 235, size=3))
        cx += rng.normal(0, 0.04) * w  # another take: the objects a little elsewhere
        cy += rng.normal(0, 0.04) * h
        box = [cx - size, cy - size * 0.7, cx + size, cy + size * 0.7]
        if layout.random() < 0.5:
            draw.ellipse(box, fill=color)
        else:
            draw.rectangle(box, fill=color)
    pixels = np.asarray(canvas, np.float32)
    pixels += (_texture(rng, (h, w))[..., None] - 0.9) * 35.0
    pixels += rng.normal(0, 4.0, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _jpeg(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=int(rng.integers(25, 90)))
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


def _resize(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    factor = rng.uniform(0.5, 1.5)
    return image.resize((round(image.width * factor), round(image.height * factor)))


def _crop(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    left, top, right, bottom = rng.uniform(0.0, 0.15, 4)
    w, h = image.size
    return image.crop(
        (round(left * w), round(top * h), round(w - right * w), round(h - bottom * h))
    )


def _text(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    image = image.copy()
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, max(12, image.height // 10))
    for y in (0.03, 0.85):
        words = " ".join(rng.choice(WORDS, size=int(rng.integers(2, 4))))
        draw.text(
            (image.width * 0.05, image.height * y),
            words,
            font=font,
            fill="white",
            stroke_width=2,
            stroke_fill="black",
        )
    return image


def _colour(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    image = ImageEnhance.Color(image).enhance(rng.uniform(0.3, 1.8))
    image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.75, 1.25))
    return ImageEnhance.Contrast(image).enhance(rng.uniform(0.75, 1.3))


EDITS = {"jpeg": _jpeg, "resize": _resize, "crop": _crop, "text": _text, "colour": _colour}


def variant(image: Image.Image, seed: int) -> tuple[Image.Image, list[str]]:
    """The picture with one to three edits (and the names of the edits, in order)."""
    rng = np.random.default_rng(seed)
    names = list(rng.choice(list(EDITS), size=int(rng.integers(1, 4)), replace=False))
    for name in names:
        image = EDITS[name](image, rng)
    return image, names


@dataclass(frozen=True)
class Member:
    """A generated image and the picture it is (`group`: scene and take)."""

    image: Image.Image
    group: tuple[int, int]
    edits: tuple[str, ...]


def corpus(scenes: int, variants: int, lookalikes: int, seed: int = 0) -> list[Member]:
    """`scenes` pictures, each with `variants` variants; the first `lookalikes` scenes also
    get a second take (a look-alike) with its own `variants` variants."""
    members = []
    for scene in range(scenes):
        takes = 2 if scene < lookalikes else 1
        for take in range(takes):
            original = picture(seed * 1000 + scene, take)
            members.append(Member(original, (scene, take), ()))
            for k in range(variants):
                image, edits = variant(original, seed * 10**6 + scene * 1000 + take * 100 + k)
                members.append(Member(image, (scene, take), tuple(edits)))
    return members


def pair_scores(truth: list[tuple[int, int]], found: list[object]) -> tuple[float, float]:
    """Pairwise precision and recall of a grouping against the true groups."""
    same_true = same_found = both = 0
    for i in range(len(truth)):
        for j in range(i + 1, len(truth)):
            t, f = truth[i] == truth[j], found[i] == found[j]
            same_true += t
            same_found += f
            both += t and f
    return (both / same_found if same_found else 1.0), (both / same_true if same_true else 1.0)
