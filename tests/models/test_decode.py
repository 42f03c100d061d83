"""Decoding: awkward real-world files become RGB at the right size, bad files are reported."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from picsift.models import decode
from picsift.models.decode import DecodeError, decode_many, open_image


def _bytes(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _red(size=(1280, 720), mode="RGB") -> Image.Image:
    return Image.new(mode, size, (220, 20, 20) if mode == "RGB" else None)


def test_large_jpeg_is_drafted_down_to_the_model_size():
    img = open_image(_bytes(_red(), "JPEG", quality=90), 224)
    assert img.mode == "RGB" and min(img.size) == 224 and img.size == (398, 224)
    r, g, b = np.asarray(img).reshape(-1, 3).mean(0)
    assert r > 180 and g < 60 and b < 60


def test_small_images_are_not_upscaled(tmp_path):
    path = tmp_path / "small.png"
    _red((100, 80)).save(path)
    assert open_image(path, 224).size == (100, 80)


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    img = open_image(_bytes(_red((400, 300)), "JPEG", exif=exif), 224)
    assert img.height > img.width


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [("CMYK", "JPEG"), ("P", "PNG"), ("I;16", "PNG"), ("RGBA", "PNG"), ("LA", "PNG"), ("L", "GIF")],
)
def test_odd_modes_become_rgb(mode, fmt):
    base = Image.new("RGB", (64, 48), (10, 200, 30))
    if mode == "I;16":
        img = Image.fromarray(np.full((48, 64), 40000, dtype=np.uint16))
    elif mode == "RGBA":
        img = base.convert("RGBA")
        img.putalpha(0)  # fully transparent: composited over white
    else:
        img = base.convert(mode)
    out = open_image(_bytes(img, fmt), 224)
    assert out.mode == "RGB" and out.size == (64, 48)
    if mode == "RGBA":
        assert np.asarray(out).min() == 255


def _wide(mode: str, size: int) -> Image.Image:
    """A `size`-square image of one 16-bit or float mode at 30000/65535 (mid grey)."""
    grey = np.full((size, size), 30000, dtype=np.uint16)
    if mode == "F":
        return Image.fromarray((grey / 65535).astype(np.float32))
    if mode == "I;16B":
        return Image.fromarray(grey.astype(">u2"))
    img = Image.fromarray(grey)
    return img.convert("I") if mode == "I" else img


@pytest.mark.parametrize("size", [100, 600])  # 600: reduced to the model size first
@pytest.mark.parametrize(
    ("mode", "fmt"), [("I;16", "PNG"), ("I;16B", "TIFF"), ("I", "TIFF"), ("F", "TIFF")]
)
def test_sixteen_bit_and_float_images_keep_their_tones(mode, fmt, size):
    data = _bytes(_wide(mode, size), fmt)
    assert Image.open(io.BytesIO(data)).mode == mode
    out = np.asarray(open_image(data, 224))
    assert out.shape[2] == 3 and abs(out.mean() - 30000 / 256) < 2


def test_a_32_bit_image_holding_8_bit_values_keeps_its_tones():
    """It came out dark (divided by 256 as if 16-bit)."""
    data = _bytes(Image.fromarray(np.full((64, 64), 200, dtype=np.int32)), "TIFF")
    assert Image.open(io.BytesIO(data)).mode == "I"
    assert abs(np.asarray(open_image(data, 224)).mean() - 200) < 1


def test_animation_gives_its_first_frame():
    frames = [Image.new("RGB", (32, 32), c) for c in ((255, 0, 0), (0, 0, 255))]
    data = _bytes(frames[0], "GIF", save_all=True, append_images=frames[1:])
    r, _, b = np.asarray(open_image(data, 224)).reshape(-1, 3).mean(0)
    assert r > 200 and b < 50


def test_webp_is_read():
    assert open_image(_bytes(_red((300, 300)), "WEBP"), 224).size == (224, 224)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not an image at all", "not an image"),
        (b"", "empty file"),
    ],
)
def test_garbage_is_a_decode_error(data, reason):
    with pytest.raises(DecodeError, match=reason):
        open_image(data, 224)


def test_truncated_jpeg_is_a_decode_error():
    data = _bytes(_red((512, 512)), "JPEG")
    with pytest.raises(DecodeError, match="cannot decode"):
        open_image(data[: len(data) // 3], 224)


def test_missing_file(tmp_path):
    with pytest.raises(DecodeError, match="file not found"):
        open_image(tmp_path / "gone.jpg", 224)


def test_pixel_limit_refuses_decompression_bombs(monkeypatch):
    monkeypatch.setattr(decode, "MAX_PIXELS", 1000)
    with pytest.raises(DecodeError, match="over the 1,000 limit"):
        open_image(_bytes(_red((100, 100)), "PNG"), 224)


def test_decode_many_keeps_order_and_reports_failures(tmp_path):
    good = tmp_path / "good.jpg"
    _red((300, 200)).save(good)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"<html>404</html>")
    items = [good, bad, tmp_path / "missing.png", good]
    results = list(decode_many(items, lambda p: p, 64, workers=2, prefetch=2))
    assert [r.item for r in results] == items
    assert [r.error is None for r in results] == [True, False, False, True]
    assert "not an image" in results[1].error and "not found" in results[2].error
    assert results[0].image.size == (96, 64)
