"""The captioner's real generate path, on the toy captioner."""

from __future__ import annotations

from picsift.models.captioner import Captioner, make_captioner
from picsift.models.runtime import Runtime
from picsift.models.toy import caption, sample

FP32 = Runtime("cpu", "fp32", "test")


def test_toy_captions_name_the_shapes():
    shapes = sample(24, seed=4040)
    captioner = Captioner("toy", runtime=FP32, batch_size=8)
    captions = captioner.caption_images([img for img, _, _ in shapes])
    right = sum(got == caption(c, s) for got, (_, c, s) in zip(captions, shapes, strict=True))
    assert right / len(shapes) >= 0.7, captions


def test_caption_sources_reports_bad_files(tmp_path):
    (img, _, _), (img2, _, _) = sample(2, seed=1)
    img.save(tmp_path / "a.png")
    img2.save(tmp_path / "b.png")
    (tmp_path / "bad.jpg").write_text("nope")
    items = [tmp_path / "a.png", tmp_path / "bad.jpg", tmp_path / "b.png"]
    out = list(Captioner("toy", runtime=FP32).caption_sources(items))
    assert sorted(item for item, _, _ in out) == sorted(items)
    results = {item.name: (text, error) for item, text, error in out}
    assert results["bad.jpg"][0] is None and "not an image" in results["bad.jpg"][1]
    assert results["a.png"][1] is None and isinstance(results["a.png"][0], str)


def test_none_switches_captions_off():
    assert make_captioner("none") is None
    assert make_captioner("toy").model_id == "toy"
