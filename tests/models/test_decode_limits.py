"""Decoding limits and unreadable sources: a too-large image or a damaged zip member is one
failed item with its reason, never an exception that ends the run."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest
from PIL import Image

from picsift.models import decode
from picsift.models.decode import DecodeError, decode_many, open_image


def _png(size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def low_pillow_limit(monkeypatch):
    """Pillow's bomb threshold at 5,000 pixels: 90x90 (8,100) is in its warning band, the band
    that real 89.5 to 179 megapixel images fall in."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 5000)


def test_pillows_warning_band_is_decoded_under_our_limit(low_pillow_limit):
    assert open_image(_png((90, 90)), 64).size == (64, 64)


def test_over_our_limit_in_pillows_warning_band_is_too_large(low_pillow_limit, monkeypatch):
    monkeypatch.setattr(decode, "MAX_PIXELS", 6000)
    with pytest.raises(DecodeError, match="too large: image is 90x90 pixels, over the 6,000"):
        open_image(_png((90, 90)), 64)


def test_over_twice_pillows_limit_is_too_large(low_pillow_limit):
    with pytest.raises(DecodeError, match="too large"):
        open_image(_png((120, 120)), 64)


def test_a_too_large_image_fails_alone_and_the_rest_decodes(low_pillow_limit, monkeypatch):
    monkeypatch.setattr(decode, "MAX_PIXELS", 6000)
    items = [_png((40, 40)), _png((90, 90)), _png((50, 50))]
    results = list(decode_many(items, lambda b: b, 64, workers=2))
    assert [r.image is not None for r in results] == [True, False, True]
    assert results[1].error.startswith("too large")


def _damaged_zip(path):
    """A zip whose members are: good, a stored member with a bad CRC, a deflated member with a
    broken stream, a member flagged as encrypted, and good again."""
    good = _png((30, 30))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("good1.png", good)
        archive.writestr("crc.png", good, compress_type=zipfile.ZIP_STORED)
        archive.writestr("deflate.png", b"x" * 4000, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("secret.png", good)
        archive.writestr("good2.png", good)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        for name, flip in (("crc.png", 40), ("deflate.png", 0)):
            offset = archive.getinfo(name).header_offset
            name_len, extra_len = struct.unpack_from("<HH", data, offset + 26)
            data[offset + 30 + name_len + extra_len + flip] ^= 0xFF
        secret = archive.getinfo("secret.png").header_offset
    data[secret + 6] |= 0x1  # general purpose flag: encrypted, in the local header...
    central = data.rindex(b"secret.png") - 46  # its central directory entry
    data[central + 8] |= 0x1  # ...and in the central directory, which zipfile reads
    path.write_bytes(bytes(data))


def test_damaged_and_encrypted_zip_members_fail_alone(tmp_path):
    path = tmp_path / "damaged.zip"
    _damaged_zip(path)
    names = ["good1.png", "crc.png", "deflate.png", "secret.png", "gone.png", "good2.png"]
    with zipfile.ZipFile(path) as archive:
        results = list(decode_many(names, archive.read, 64, workers=2))
    by_name = {r.item: r for r in results}
    assert [r.item for r in results] == names
    assert by_name["good1.png"].image is not None and by_name["good2.png"].image is not None
    reasons = {name: by_name[name].error for name in names[1:5]}
    assert all(reason.startswith("cannot read: ") for reason in reasons.values()), reasons
    assert "Bad CRC-32" in reasons["crc.png"]
    assert "decompressing" in reasons["deflate.png"]
    assert "encrypted" in reasons["secret.png"]
    assert "no item named 'gone.png'" in reasons["gone.png"]
