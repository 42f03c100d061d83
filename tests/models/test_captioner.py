"""The captioner's real generate path, on the toy captioner."""

from __future__ import annotations

import pytest
from PIL import Image

from picsift.models.captioner import Captioner
from picsift.models.factory import captioner_for
from picsift.models.runtime import Runtime
from picsift.models.toy import caption, sample
from picsift.settings import Settings

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


@pytest.mark.parametrize("off", ["none", "off", "", " None "])
def test_none_switches_captions_off(off):
    assert captioner_for(Settings(caption_model=off)) is None
    assert captioner_for(Settings(caption_model="toy")).model_id == "toy"


def test_a_caption_without_an_end_token_stops_at_the_decoder_positions():
    # The toy model never ends a flat colour's caption; 20 new tokens overran its 16 positions.
    flat = Image.new("RGB", (200, 200), (220, 30, 30))
    captioner = Captioner("toy", runtime=FP32, max_new_tokens=40)
    (text,) = captioner.caption_images([flat])
    assert text.startswith("a red") and len(text.split()) <= 15


def _all_green(img: Image.Image) -> bool:
    (_, r_max), (g_min, _), (_, b_max) = img.getextrema()  # thumbnails are lossy
    return r_max < 40 and g_min > 215 and b_max < 40


class FailsOnGreen(Captioner):
    """The toy captioner, failing like a model error on any batch with a pure green image."""

    def caption_images(self, images):
        if any(_all_green(img) for img in images):
            raise RuntimeError("CUDA out of memory")
        return super().caption_images(images)


def test_a_model_error_fails_only_its_image(tmp_path):
    images = [img for img, _, _ in sample(5, seed=7)]
    images.insert(2, Image.new("RGB", (64, 64), (0, 255, 0)))
    items = [tmp_path / f"{i}.png" for i in range(len(images))]
    for img, path in zip(images, items, strict=True):
        img.save(path)
    out = list(FailsOnGreen("toy", runtime=FP32, batch_size=4).caption_sources(items))
    assert [item for item, _, _ in out] == items
    assert [text is not None for _, text, _ in out] == [True, True, False, True, True, True]
    assert out[2][2] == "captioning failed: RuntimeError: CUDA out of memory"
    alone = Captioner("toy", runtime=FP32).caption_sources(items[:1])
    assert out[0][1] == next(alone)[1]


def test_captions_are_greedy_generates_own():
    """The batched path gives exactly what a plain greedy `generate` gives, image by image."""
    import torch
    from transformers import AutoImageProcessor, AutoTokenizer, VisionEncoderDecoderModel

    from picsift.models.toy import TOY_CAPTIONER_DIR

    images = [img for img, _, _ in sample(12, seed=77)]
    ours = Captioner("toy", runtime=FP32, batch_size=5).caption_images(images)
    model = VisionEncoderDecoderModel.from_pretrained(TOY_CAPTIONER_DIR).eval()
    processor = AutoImageProcessor.from_pretrained(TOY_CAPTIONER_DIR)
    tokenizer = AutoTokenizer.from_pretrained(TOY_CAPTIONER_DIR)
    theirs = []
    for image in images:
        pixels = processor(images=[image], return_tensors="pt").pixel_values
        with torch.no_grad():
            ids = model.generate(pixel_values=pixels, max_new_tokens=20, do_sample=False)
        theirs.append(tokenizer.decode(ids[0], skip_special_tokens=True).strip())
    assert ours == theirs


def test_bf16_loads_bf16_weights_and_captions_as_fp32_does():
    """In bf16 the weights are bf16 (no fp32 copy cast at every decoding step); on the toy
    captioner the captions are fp32's, image for image."""
    import torch

    images = [img for img, _, _ in sample(40, seed=78)]
    bf16 = Captioner("toy", runtime=Runtime("cpu", "bf16", "test"), batch_size=16)
    assert bf16._parts()[0].dtype == torch.bfloat16
    fp16 = Captioner("toy", runtime=Runtime("cpu", "fp16", "test"))
    assert fp16._parts()[0].dtype == torch.float32  # fp16 runs fp32 weights under autocast
    assert bf16.caption_images(images) == Captioner("toy", runtime=FP32).caption_images(images)
