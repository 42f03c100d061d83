"""A tiny file of extreme aspect (a 65000x1 PNG, 271 bytes) costs what a normal image costs to
embed: CLIP's processor scaled its short side up to the input size first (3 GB of floats)."""

from __future__ import annotations

import json
import subprocess
import sys

from PIL import Image

from picsift.models.decode import bound_aspect, decode_image

PEAK = """
import json, resource, sys
from picsift.models.encoder import ClipEncoder
from picsift.models.runtime import Runtime
encoder = ClipEncoder("toy", runtime=Runtime("cpu", "fp32", "test"))
encoder.embed_texts(["warm up"])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
vectors = list(encoder.embed_sources([sys.argv[1]]))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"kib": after - before, "embedded": sum(len(b.vectors) for b in vectors)}))
"""


def peak_kib(path) -> dict:
    """Peak memory the embedding of one file adds, in a fresh process (KiB)."""
    out = subprocess.run(
        [sys.executable, "-c", PEAK, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_extreme_aspect_embeds_within_twice_a_normal_images_memory(tmp_path):
    Image.new("RGB", (65000, 1), "red").save(tmp_path / "line.png")
    Image.new("RGB", (640, 480), "red").save(tmp_path / "normal.png")
    assert (tmp_path / "line.png").stat().st_size < 2000
    normal, line = peak_kib(tmp_path / "normal.png"), peak_kib(tmp_path / "line.png")
    assert normal["embedded"] == line["embedded"] == 1
    # the baseline is at least 32 MiB, so allocator noise cannot decide the test
    assert line["kib"] <= 2 * max(normal["kib"], 32 * 1024), (line, normal)


def test_the_cut_keeps_the_centre_square_the_model_sees():
    tall = Image.new("RGB", (10, 100), "white")
    tall.paste(Image.new("RGB", (10, 10), "black"), (0, 45))
    cut = bound_aspect(tall)
    assert cut.size == (10, 30)
    assert cut.getpixel((5, 15)) == (0, 0, 0) and cut.getpixel((5, 0)) == (255, 255, 255)
    assert bound_aspect(Image.new("RGB", (300, 100))).size == (300, 100)  # 3:1 is kept whole


def test_decoding_reports_the_original_size(tmp_path):
    Image.new("RGB", (65000, 1), "red").save(tmp_path / "line.png")
    image, info = decode_image(tmp_path / "line.png", 64)
    assert (info.width, info.height) == (65000, 1) and image.size == (3, 1)
