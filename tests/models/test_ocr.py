"""OCR on generated covers (tests/ocr_images.py): German and English overlay text in five
styles over photo-like backgrounds, read by Tesseract through picsift.models.ocr, checked
against the text that was drawn."""

from __future__ import annotations

import difflib

import numpy as np
import pytest
from PIL import Image

from picsift.models.ocr import OcrEngine, OcrUnavailable
from tests.ocr_images import STYLES, background, cases, overlay


@pytest.fixture(scope="module")
def engine() -> OcrEngine:
    return OcrEngine()


def similarity(read: str, drawn: str) -> float:
    return difflib.SequenceMatcher(None, " ".join(read.split()), drawn).ratio()


@pytest.mark.parametrize("style", STYLES)
def test_overlay_text_is_read_in_every_style(engine, style):
    found = [c for c in cases(n_per_style=2, seed=7) if c.style == style]
    scores = [similarity(engine.read(c.image).text, c.text) for c in found]
    assert min(scores) >= 0.8 and sum(scores) / len(scores) >= 0.9, scores


def test_umlauts_and_sharp_s_come_back_exactly(engine):
    picture = background(np.random.default_rng(3), 720, 1280)
    image = overlay(picture, "Größte Straße über der Brücke", "outline", 40, 600)
    read = engine.read(image)
    assert read.text == "Größte Straße über der Brücke"
    assert read.confidence is not None and read.confidence >= 70
    assert all(w.confidence >= engine.min_confidence for w in read.words)


def test_lines_come_in_reading_order(engine):
    picture = background(np.random.default_rng(4), 720, 1280)
    image = overlay(picture, "Bauern gegen die Ampel", "box", 40, 900)
    image = overlay(image, "Stop the war now", "outline", 40, 200)
    assert engine.read(image).text.splitlines() == ["Stop the war now", "Bauern gegen die Ampel"]


def test_a_picture_without_text_reads_as_none(engine):
    # Tesseract's mean confidence says 95 for an empty page: ours says None.
    for seed in range(3):
        read = engine.read(background(np.random.default_rng(seed), 720, 1280))
        assert (read.text, read.confidence, read.language) == ("", None, None)


def test_a_small_picture_is_enlarged_before_reading(engine):
    picture = background(np.random.default_rng(5), 720, 1280)
    image = overlay(picture, "Free speech matters", "plain", 48, 500)
    small = image.resize((256, 455), Image.Resampling.LANCZOS)  # a thumbnail's size
    assert similarity(engine.read(small).text, "Free speech matters") >= 0.9


def test_a_missing_language_names_its_debian_package():
    with pytest.raises(OcrUnavailable, match=r"no data for fra .*tesseract-ocr-fra"):
        OcrEngine("deu+fra")


def test_missing_language_data_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path / "nowhere"))
    with pytest.raises(OcrUnavailable, match="apt install tesseract-ocr tesseract-ocr-deu"):
        OcrEngine()
