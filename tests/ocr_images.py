"""Generated hard cases for OCR: German and English lines (umlauts, ß) drawn as overlay text
is drawn on TikTok covers and memes (in a white box, white with a black outline, plain white,
yellow with an outline, black on a pale band) over photo-like backgrounds: a smooth colour
field, grain at two scales and coloured blobs, so the background has edges Tesseract can
mistake for letters. Fonts: Debian's fonts-dejavu-core."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
LINES = {
    "deu": [
        "Traktor Blockade in Berlin",
        "Größte Straße über der Brücke",
        "Bauern gegen die Ampel",
        "Heute schön kühl, oder?",
        "Wir sind das Volk",
        "Süße Grüße aus Köln",
    ],
    "eng": [
        "Stop the war now",
        "Free speech matters",
        "Breaking news tonight",
        "Share before they delete this",
        "Farmers block the highway",
    ],
}
STYLES = ("box", "outline", "plain", "yellow", "band")


@dataclass(frozen=True)
class Case:
    image: Image.Image
    text: str
    language: str
    style: str
    size: int


def background(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """A photo-like picture: no text, plenty of edges."""
    field = Image.fromarray((rng.random((4, 4, 3)) * 255).astype(np.uint8))
    pixels = np.asarray(field.resize((width, height), Image.Resampling.BICUBIC), dtype=float)
    coarse = rng.normal(128, 40, (height // 4, width // 4, 3)).clip(0, 255).astype(np.uint8)
    grain = np.asarray(
        Image.fromarray(coarse).resize((width, height), Image.Resampling.BILINEAR), dtype=float
    )
    pixels = (pixels + grain - 128 + rng.normal(0, 15, (height, width, 3))).clip(0, 255)
    image = Image.fromarray(pixels.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(8):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(20, 120))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    return image.filter(ImageFilter.GaussianBlur(1))


def overlay(image: Image.Image, text: str, style: str, size: int, y: int) -> Image.Image:
    """`text` drawn on `image` (a copy) in `style`, at height `y`."""
    image = image.copy()
    draw = ImageDraw.Draw(image)
    x = 40
    font = ImageFont.truetype(FONT, size)
    while draw.textlength(text, font=font) > image.width - 2 * x:  # the line fits the picture
        size -= 2
        font = ImageFont.truetype(FONT, size)
    box = draw.textbbox((x, y), text, font=font)
    if style == "box":
        draw.rectangle((box[0] - 10, box[1] - 10, box[2] + 10, box[3] + 10), fill="white")
        draw.text((x, y), text, font=font, fill="black")
    elif style == "outline":
        draw.text((x, y), text, font=font, fill="white", stroke_width=max(2, size // 12),
                  stroke_fill="black")  # fmt: skip
    elif style == "plain":
        draw.text((x, y), text, font=font, fill="white")
    elif style == "yellow":
        draw.text((x, y), text, font=font, fill=(255, 230, 0), stroke_width=2, stroke_fill="black")
    elif style == "band":
        band = (0, box[1] - 12, image.width, box[3] + 12)
        draw.rectangle(band, fill=(235, 225, 205))
        draw.text((x, y), text, font=font, fill="black")
    else:
        raise ValueError(f"style: {style!r} is none of {STYLES}")
    return image


def cases(n_per_style: int = 4, sizes: tuple[int, ...] = (30, 48), seed: int = 0) -> list[Case]:
    """Covers of 720x1280, each one line in one style and size, German and English in turn."""
    rng = np.random.default_rng(seed)
    out = []
    for style in STYLES:
        for size in sizes:
            for k in range(n_per_style):
                language = ("deu", "eng")[k % 2]
                text = LINES[language][int(rng.integers(len(LINES[language])))]
                picture = background(rng, 720, 1280)
                y = int(rng.integers(150, 1050))
                out.append(
                    Case(overlay(picture, text, style, size, y), text, language, style, size)
                )
    return out


# Covers for the indexing, API and browser tests: file name -> (text, style).
COVERS = {
    "traktor.png": ("Traktor Blockade in Berlin", "outline"),
    "bruecke.png": ("Größte Straße über der Brücke", "box"),
    "speech.png": ("Free speech matters", "plain"),
}


def write_covers(folder: Path) -> None:
    """The `COVERS` as 720x1280 PNGs in `folder` (made), and `no-text.png` without text."""
    folder.mkdir()
    for n, (name, (text, style)) in enumerate(COVERS.items()):
        picture = background(np.random.default_rng(n), 720, 1280)
        overlay(picture, text, style, 44, 300 + 200 * n).save(folder / name)
    background(np.random.default_rng(9), 720, 1280).save(folder / "no-text.png")
