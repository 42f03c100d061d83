"""bf16 autocast must not change results on the real ViT-B/32 architecture (random weights)."""

from __future__ import annotations

import numpy as np
import pytest

from picsift.models.encoder import ClipEncoder, normalise
from picsift.models.runtime import Runtime
from picsift.models.toy.varied import varied_images

pytestmark = pytest.mark.slow


def _random_vit_b32(path):
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

    torch.manual_seed(0)
    # The real image tower (CLIPConfig's defaults are ViT-B/32); a one-layer text tower keeps
    # the files small, the text side is not under test here.
    config = CLIPConfig(text_config={"num_hidden_layers": 1, "vocab_size": 64})
    CLIPModel(config).save_pretrained(path)
    vocab = {"<|startoftext|>": 62, "<|endoftext|>": 63} | {
        f"{c}</w>": i for i, c in enumerate("abcdefghijklmnopqrstuvwxyz")
    }
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[])
    CLIPProcessor(image_processor=CLIPImageProcessor(), tokenizer=tokenizer).save_pretrained(path)
    return path


def _neighbours(x: np.ndarray, k: int = 10) -> np.ndarray:
    sim = x @ x.T
    np.fill_diagonal(sim, -np.inf)
    return np.argsort(-sim, axis=1)[:, :k]


def test_bf16_agrees_with_fp32_on_vit_b32(tmp_path):
    path = str(_random_vit_b32(tmp_path / "vit-b-32"))
    images = varied_images(200, size=(224, 224))
    fp32 = ClipEncoder(path, runtime=Runtime("cpu", "fp32", "test")).embed_images(images)
    bf16 = ClipEncoder(path, runtime=Runtime("cpu", "bf16", "test")).embed_images(images)
    # Random weights make raw embeddings nearly collinear: compare after removing the mean.
    mean = fp32.mean(0, keepdims=True)
    a, b = normalise(fp32 - mean), normalise(bf16 - mean)
    cosine = (a * b).sum(1)
    assert cosine.min() >= 0.998, f"min cosine {cosine.min():.4f}"
    same = [len(set(x) & set(y)) / 10 for x, y in zip(_neighbours(a), _neighbours(b), strict=True)]
    assert np.mean(same) >= 0.95, f"10-NN overlap {np.mean(same):.1%}"
