"""The CLIP encoder on the toy model: real retrieval, the real loader, robust inputs, and
precision that does not change results."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
from PIL import Image

from picsift.errors import ModelUnavailableError
from picsift.models.encoder import ClipEncoder
from picsift.models.runtime import Runtime
from picsift.models.toy import COLORS, SHAPES, TOY_CLIP_DIR, caption, sample

FP32 = Runtime("cpu", "fp32", "test")
BF16 = Runtime("cpu", "bf16", "test")
CAPTIONS = [caption(c, s) for c in COLORS for s in SHAPES]


@pytest.fixture(scope="module")
def toy() -> ClipEncoder:
    return ClipEncoder("toy", runtime=FP32)


@pytest.fixture(scope="module")
def shapes():
    return sample(240, seed=2026)


def test_outputs_are_unit_float32(toy, shapes):
    vectors = toy.embed_images([img for img, _, _ in shapes[:10]])
    assert vectors.dtype == np.float32 and vectors.shape == (10, toy.dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert toy.model_id == "toy" and toy.image_size == 64


def test_zero_shot_accuracy_on_fresh_shapes(toy, shapes):
    images = toy.embed_images([img for img, _, _ in shapes])
    texts = toy.embed_texts(CAPTIONS)
    predicted = (images @ texts.T).argmax(axis=1)
    truth = np.array([CAPTIONS.index(caption(c, s)) for _, c, s in shapes])
    accuracy = float((predicted == truth).mean())
    assert accuracy >= 0.90, f"zero-shot accuracy {accuracy:.1%}"


def test_red_circle_retrieves_red_circles(toy, shapes):
    images = toy.embed_images([img for img, _, _ in shapes])
    query = toy.embed_texts(["red circle"])[0]
    top = np.argsort(-(images @ query))[:10]
    assert all(shapes[i][1:] == ("red", "circle") for i in top)


def test_same_loader_takes_a_local_directory(toy, shapes, tmp_path):
    copy = tmp_path / "my-clip"
    shutil.copytree(TOY_CLIP_DIR, copy)
    local = ClipEncoder(str(copy), runtime=FP32)
    assert local.model_id == str(copy.resolve())
    images = [img for img, _, _ in shapes[:5]]
    np.testing.assert_allclose(local.embed_images(images), toy.embed_images(images), atol=1e-6)


def test_bad_images_are_reported_and_skipped(toy, shapes, tmp_path):
    paths = []
    for i, (img, _, _) in enumerate(shapes[:5]):
        paths.append(tmp_path / f"ok{i}.png")
        img.save(paths[-1])
    (tmp_path / "html.jpg").write_text("<html>403 Forbidden</html>")
    buf = io.BytesIO()
    shapes[0][0].resize((400, 400)).save(buf, "JPEG")
    (tmp_path / "cut.jpg").write_bytes(buf.getvalue()[:500])
    items = [paths[0], tmp_path / "html.jpg", *paths[1:3], tmp_path / "cut.jpg", paths[3]]
    items.append(tmp_path / "gone.png")
    items.append(paths[4])
    encoder = ClipEncoder("toy", runtime=FP32, batch_size=4)
    batches = list(encoder.embed_sources(items))
    embedded = [item for b in batches for item in b.items]
    failed = dict(f for b in batches for f in b.failed)
    assert embedded == paths
    assert set(failed) == {tmp_path / "html.jpg", tmp_path / "cut.jpg", tmp_path / "gone.png"}
    assert "not an image" in failed[tmp_path / "html.jpg"]
    assert "not found" in failed[tmp_path / "gone.png"]
    vectors = np.concatenate([b.vectors for b in batches])
    direct = toy.embed_images([Image.open(p).convert("RGB") for p in paths])
    np.testing.assert_allclose(vectors, direct, atol=1e-5)


def test_bf16_and_fp32_agree_on_the_toy_model(toy, shapes):
    images = [img for img, _, _ in shapes[:120]]
    fast = ClipEncoder("toy", runtime=BF16)
    texts32, texts16 = toy.embed_texts(CAPTIONS), fast.embed_texts(CAPTIONS)
    top32 = (toy.embed_images(images) @ texts32.T).argmax(1)
    top16 = (fast.embed_images(images) @ texts16.T).argmax(1)
    assert (top32 == top16).all()


def test_unknown_model_offline_names_the_fixes(monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    encoder = ClipEncoder("picsift-test/no-such-clip", runtime=FP32)
    with pytest.raises(ModelUnavailableError) as err:
        _ = encoder.dim
    message = str(err.value)
    assert "picsift-test/no-such-clip" in message and "PICSIFT_MODEL" in message
    assert "huggingface-cli download" in message and "HF_HOME" in message
    assert "PICSIFT_MODEL=toy" in message
