"""The int8 text tower: same tokenization and pooling as sentence-transformers, close to fp32,
still retrieves, chosen only where it should be, and refused when it disagrees with fp32."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from picsift.errors import ConfigError
from picsift.models import quantized
from picsift.models.encoder import ClipEncoder, normalise
from picsift.models.quantized import Int8TextEncoder, clip_text_tower
from picsift.models.runtime import Runtime
from picsift.models.toy import COLORS, SHAPES, caption, sample

FP32 = Runtime("cpu", "fp32", "test")
CAPTIONS = [caption(c, s) for c in COLORS for s in SHAPES]


@pytest.fixture(scope="module")
def toy() -> ClipEncoder:
    return ClipEncoder("toy", runtime=FP32)


@pytest.fixture(scope="module")
def int8() -> ClipEncoder:
    return ClipEncoder("toy", runtime=FP32, text_quantization="int8")


@pytest.fixture(scope="module")
def shapes():
    return sample(240, seed=2026)


def test_unquantized_tower_reproduces_sentence_transformers(toy):
    """The int8 path's own tokenization and pooling, run in fp32, give the reference vectors:
    any difference under int8 is quantization, not a different pipeline."""
    tower = clip_text_tower(toy.model)
    ours = normalise(Int8TextEncoder(toy.model, tower).encode(CAPTIONS).numpy())
    np.testing.assert_allclose(ours, toy.embed_texts(CAPTIONS), atol=1e-5)


def test_int8_vectors_stay_close_to_fp32(toy, int8):
    queries = [*CAPTIONS, "red", "a photo of a blue square", "green green triangle"]
    full, fast = toy.embed_texts(queries), int8.embed_texts(queries)
    assert (full * fast).sum(axis=1).min() >= 0.995
    mean = full.mean(axis=0, keepdims=True)
    centred = (normalise(full - mean) * normalise(fast - mean)).sum(axis=1)
    assert centred.min() >= quantized.MIN_COSINE, f"min cosine {centred.min():.4f}"
    assert int8.text_description.startswith("cpu int8 text tower: min cosine")


def test_int8_queries_rank_like_fp32(toy, int8, shapes):
    images = toy.embed_images([img for img, _, _ in shapes])
    top = np.argsort(-(images @ int8.embed_texts(["red circle"])[0]))[:10]
    assert all(shapes[i][1:] == ("red", "circle") for i in top)
    full = np.argsort(-(images @ toy.embed_texts(CAPTIONS).T), axis=0)[:10].T
    fast = np.argsort(-(images @ int8.embed_texts(CAPTIONS).T), axis=0)[:10].T
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(full, fast, strict=True)])
    assert overlap >= 0.9, f"top-10 overlap with fp32 {overlap:.1%}"


def test_auto_uses_int8_only_on_a_cpu_in_fp32():
    cpu = ClipEncoder("toy", runtime=FP32, text_quantization="auto")
    assert "int8" in cpu.text_description
    bf16 = ClipEncoder("toy", runtime=Runtime("cpu", "bf16", "test"), text_quantization="auto")
    assert bf16.text_description == "cpu bf16, as images"
    none = ClipEncoder("toy", runtime=FP32, text_quantization="none")
    assert none.text_description == "cpu fp32, as images"


def test_int8_asked_for_where_it_cannot_run_is_a_config_error():
    encoder = ClipEncoder("toy", runtime=Runtime("cpu", "bf16", "test"), text_quantization="int8")
    with pytest.raises(ConfigError, match="PICSIFT_TEXT_QUANTIZATION=int8 runs on a CPU in fp32"):
        encoder.embed_texts(["red circle"])


def test_disagreeing_int8_is_refused(toy, monkeypatch):
    """A model whose int8 vectors move too far keeps fp32 under auto, and int8 says why."""
    monkeypatch.setattr(quantized, "MIN_COSINE", 1.001)
    auto = ClipEncoder("toy", runtime=FP32, text_quantization="auto")
    np.testing.assert_allclose(auto.embed_texts(CAPTIONS), toy.embed_texts(CAPTIONS), atol=1e-6)
    assert "int8 text tower refused: min cosine" in auto.text_description
    strict = ClipEncoder("toy", runtime=FP32, text_quantization="int8")
    with pytest.raises(ConfigError, match=r"refused: .*\(mean removed\), needs >= 1.001"):
        strict.embed_texts(["red circle"])


def test_a_query_vector_does_not_depend_on_its_batch(int8):
    """Concurrent queries are encoded together: each must get the vector it gets alone."""
    texts = ["red", "a photo of a big blue square", "green triangle", "yellow circle circle"]
    together = int8.embed_texts(texts)
    alone = np.concatenate([int8.embed_texts([t]) for t in texts])
    np.testing.assert_array_equal(together, alone)


def test_the_traced_tower_equals_the_eager_one_at_every_length(int8):
    encoder, _ = int8._text_path()
    eager = encoder._tower
    texts = ["red"] + [" ".join(["red circle"] * k) for k in range(1, 12)]
    lengths = {int8.model.preprocess([t])["input_ids"].shape[1] for t in texts}
    assert len(lengths) >= 10
    traced = encoder.encode(texts)
    with torch.inference_mode():
        for text, vector in zip(texts, traced, strict=True):
            features = int8.model.preprocess([text])
            expected = eager(features["input_ids"], features["attention_mask"])[0]
            torch.testing.assert_close(vector, expected, rtol=0, atol=1e-6)
