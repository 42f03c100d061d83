"""Text in the image, read with Tesseract (through tesserocr) and the system's language data.

Overlay text on photos (TikTok covers, memes) defeats Tesseract's own page segmentation: on a
textured background it finds no text, or reads the texture as words. So the picture is first
brought to a size Tesseract reads well, then split into one black-on-white mask per colour that
overlay text comes in (white, black, yellow: each pixel near that colour is ink), each read in
sparse-text mode. Words under the confidence floor are dropped (texture read as letters scores
low), the same word found in two masks is kept once (the more confident), and what remains is
put back in reading order. `bench/ocr.py` measures this against the plain page mode.

Tesseract's mean-confidence API says 95 for an empty page: the confidence here is the mean of
the kept words' own confidences, weighted by their length, and None when nothing was read.
"""

from __future__ import annotations

import glob
import os
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

DEFAULT_LANGUAGES = "deu+eng"
MIN_CONFIDENCE = 70.0  # words below this (0..100) are dropped
INK = {"white": (255, 255, 255), "black": (0, 0, 0), "yellow": (255, 230, 0)}
INK_TOLERANCE = 60  # how far (per channel, 0..255) a pixel may be from an ink colour
MIN_SIDE = 720  # smaller pictures are enlarged: Tesseract wants letters 20+ px high
MAX_SIDE = 2000  # larger ones are reduced: time grows with the pixels
SAME_WORD = 0.5  # boxes overlapping this much (of the smaller) are one word
SHORT_WORD = 3  # a word this short alone on its line needs LONE_CONFIDENCE: texture reads so
LONE_CONFIDENCE = 93.0
_DEBIAN_DATA = "/usr/share/tesseract-ocr/*/tessdata"


class OcrUnavailable(RuntimeError):
    """Tesseract or a language's data is missing; the message says what to install."""


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float
    box: tuple[int, int, int, int]  # left, top, right, bottom, in the read picture
    language: str


@dataclass(frozen=True)
class OcrText:
    """What was read: the text in reading order (lines joined by newlines), the language most
    of its letters were read in, and their length-weighted mean confidence (None: no text)."""

    text: str
    language: str | None
    confidence: float | None
    words: tuple[Word, ...]


def tessdata_dir() -> Path | None:
    """Where the language data is: `TESSDATA_PREFIX`, else Debian's (`tesseract-ocr-*`)."""
    if os.environ.get("TESSDATA_PREFIX"):
        return Path(os.environ["TESSDATA_PREFIX"])
    found = sorted(glob.glob(_DEBIAN_DATA))
    return Path(found[-1]) if found else None


class OcrEngine:
    """One Tesseract per thread, reading `languages` (Tesseract's `deu+eng` form).

    Raises:
        OcrUnavailable: tesserocr, the language data or one of the languages is missing.
    """

    def __init__(self, languages: str = DEFAULT_LANGUAGES, min_confidence: float = MIN_CONFIDENCE):
        try:
            import tesserocr
        except ImportError as exc:
            raise OcrUnavailable(f"OCR is off: tesserocr cannot be imported ({exc})") from None
        data = tessdata_dir()
        if data is None or not data.is_dir():
            raise OcrUnavailable(
                "OCR is off: Tesseract's language data is not installed (apt install "
                "tesseract-ocr tesseract-ocr-deu tesseract-ocr-eng, or set TESSDATA_PREFIX)"
            )
        wanted = [lang for lang in languages.split("+") if lang]
        have = set(tesserocr.get_languages(f"{data}/")[1])
        missing = [lang for lang in wanted if lang not in have]
        if not wanted or missing:
            raise OcrUnavailable(
                f"OCR languages {languages!r}: no data for {', '.join(missing) or 'any'} in "
                f"{data} (apt install {' '.join(f'tesseract-ocr-{m}' for m in missing)}; "
                f"installed: {', '.join(sorted(have - {'osd'})) or 'none'})"
            )
        self.languages = "+".join(wanted)
        self.min_confidence = min_confidence
        self.tessdata = f"{data}/"
        self._local = threading.local()

    def _api(self):
        api = getattr(self._local, "api", None)
        if api is None:
            import tesserocr

            api = tesserocr.PyTessBaseAPI(
                path=self.tessdata, lang=self.languages, psm=tesserocr.PSM.SPARSE_TEXT
            )
            self._local.api = api
        return api

    def read(self, image: Image.Image) -> OcrText:
        """The text in `image` (any mode and size)."""
        picture = _sized(image.convert("RGB"))
        pixels = np.asarray(picture, dtype=np.int16)
        found: list[Word] = []
        for ink in INK.values():
            found += self._words(_mask(pixels, ink))
        return _assemble(_distinct([w for w in found if any(c.isalnum() for c in w.text)]))

    def _words(self, mask: Image.Image) -> list[Word]:
        from tesserocr import RIL, iterate_level

        api = self._api()
        api.SetImage(mask)
        api.Recognize()
        words = []
        for item in iterate_level(api.GetIterator(), RIL.WORD):
            try:
                text = item.GetUTF8Text(RIL.WORD).strip()
            except RuntimeError:  # a word box without text
                continue
            confidence = item.Confidence(RIL.WORD)
            if text and confidence >= self.min_confidence:
                box = item.BoundingBox(RIL.WORD)
                words.append(Word(text, confidence, box, item.WordRecognitionLanguage() or ""))
        return words


def _sized(picture: Image.Image) -> Image.Image:
    from PIL import Image

    scale = 1.0
    if min(picture.size) < MIN_SIDE:
        scale = MIN_SIDE / min(picture.size)
    scale = min(scale, MAX_SIDE / max(picture.size))
    if abs(scale - 1.0) < 0.01:
        return picture
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    return picture.resize(size, Image.Resampling.LANCZOS)


def _mask(pixels: np.ndarray, ink: tuple[int, int, int]) -> Image.Image:
    """Black where a pixel is near `ink`, white elsewhere."""
    from PIL import Image

    near = np.abs(pixels - np.array(ink, dtype=np.int16)).max(axis=2) < INK_TOLERANCE
    return Image.fromarray(np.where(near, 0, 255).astype(np.uint8))


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """How much of the smaller box the other covers (an outlined word's box in the outline's
    mask is larger than in its fill's)."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return width * height / max(smaller, 1)


def _distinct(words: list[Word]) -> list[Word]:
    """The words, each place read once: the most confident where two masks read one word."""
    kept: list[Word] = []
    for word in sorted(words, key=lambda w: -w.confidence):
        if all(_overlap(word.box, other.box) < SAME_WORD for other in kept):
            kept.append(word)
    return kept


def _assemble(words: list[Word]) -> OcrText:
    """Words in reading order: lines top to bottom (a word joins a line its middle falls
    within), each left to right."""
    lines: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.box[1] + w.box[3]) / 2):
        middle = (word.box[1] + word.box[3]) / 2
        line = lines[-1] if lines else None
        if line and min(w.box[1] for w in line) <= middle <= max(w.box[3] for w in line):
            line.append(word)
        else:
            lines.append([word])
    ordered = [
        sorted(line, key=lambda w: w.box[0])
        for line in lines
        if len(line) > 1 or len(line[0].text) > SHORT_WORD or line[0].confidence >= LONE_CONFIDENCE
    ]
    words = [w for line in ordered for w in line]
    text = "\n".join(" ".join(w.text for w in line) for line in ordered)
    letters = sum(len(w.text) for w in words)
    if not letters:
        return OcrText("", None, None, ())
    confidence = sum(w.confidence * len(w.text) for w in words) / letters
    by_language = Counter[str]()
    for word in words:
        by_language[word.language] += len(word.text)
    language = by_language.most_common(1)[0][0] or None
    return OcrText(text, language, round(confidence, 1), tuple(words))
