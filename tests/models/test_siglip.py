"""SigLIP and SigLIP 2 checkpoints (#22), as tiny random-initialised models in the hub's on-disk
formats: picsift's vectors are the model's own (its forward pass reads the same image-text
pairs the same way), texts are lowercased and padded as the authors show, the config gives the
sizes without loading weights, the factory picks the encoder by the checkpoint's kind, and a
SigLIP folder indexes and searches end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from picsift.errors import ConfigError
from picsift.models import registry
from picsift.models.runtime import Runtime
from picsift.models.siglip import SiglipEncoder
from picsift.models.toy import sample
from tests.models.siglip_tiny import HIDDEN, IMAGE_SIZE, TEXT_LENGTH, tiny_siglip

FP32 = Runtime("cpu", "fp32", "test")
TEXTS = ["a red circle", "A Green Square", "shape"]


@pytest.fixture(scope="module", params=["sentencepiece", "gemma"])
def checkpoint(request, tmp_path_factory):
    return tiny_siglip(tmp_path_factory.mktemp(request.param), request.param)


def test_the_vectors_are_the_models_own(checkpoint):
    import torch
    from transformers import AutoProcessor, SiglipModel

    encoder = SiglipEncoder(str(checkpoint), runtime=FP32)
    images = [image for image, _, _ in sample(4, seed=7)]
    image_vectors, text_vectors = encoder.embed_images(images), encoder.embed_texts(TEXTS)
    assert image_vectors.shape == (4, HIDDEN) and text_vectors.shape == (3, HIDDEN)
    for vectors in (image_vectors, text_vectors):
        assert vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)

    model = SiglipModel.from_pretrained(checkpoint).eval()
    processor = AutoProcessor.from_pretrained(checkpoint)
    inputs = processor(
        text=[t.lower() for t in TEXTS],
        images=images,
        padding="max_length",
        max_length=TEXT_LENGTH,
        return_tensors="pt",
    )
    with torch.no_grad():
        theirs = model(input_ids=inputs["input_ids"], pixel_values=inputs["pixel_values"])
    scale, bias = model.logit_scale.exp().item(), model.logit_bias.item()
    ours = image_vectors @ text_vectors.T * scale + bias
    np.testing.assert_allclose(ours, theirs.logits_per_image.numpy(), atol=1e-3)
    assert f"sigmoid({scale:.2f} * c + {bias:.2f})" in encoder.score_meaning


def test_texts_are_lowercased_and_padded_to_the_towers_length(checkpoint):
    encoder = SiglipEncoder(str(checkpoint), runtime=FP32)
    upper, lower = encoder.embed_texts(["A RED Circle", "a red circle"])
    np.testing.assert_allclose(upper, lower, atol=1e-6)
    # Padded to the whole length: a text's vector does not depend on the batch it is in.
    alone = encoder.embed_texts(["a red circle"])[0]
    with_long = encoder.embed_texts(["a red circle", "a photo of a blue triangle shape"])[0]
    np.testing.assert_allclose(alone, with_long, atol=1e-5)
    assert f"padded to {TEXT_LENGTH} tokens" in encoder.text_description


def test_sizes_come_from_the_config_without_loading_the_model(checkpoint):
    encoder = SiglipEncoder(str(checkpoint), runtime=FP32)
    assert (encoder.dim, encoder.image_size) == (HIDDEN, IMAGE_SIZE)
    assert encoder.model_id == str(checkpoint.resolve())
    fresh = SiglipEncoder(str(checkpoint), runtime=Runtime("meta", "fp32", "never loaded"))
    assert fresh.dim == HIDDEN
    assert registry.loaded(("siglip", fresh.path, "meta")) is None


def test_the_factory_picks_the_encoder_by_the_checkpoints_kind(checkpoint, tmp_path):
    from picsift.models.encoder import ClipEncoder
    from picsift.models.factory import make_encoder
    from picsift.settings import Settings

    assert isinstance(make_encoder(str(checkpoint), Settings()), SiglipEncoder)
    assert isinstance(make_encoder("toy", Settings()), ClipEncoder)  # a CLIPModel folder
    naflex = tmp_path / "naflex"
    naflex.mkdir()
    (naflex / "config.json").write_text(json.dumps({"model_type": "siglip2"}))
    with pytest.raises(ConfigError, match="NaFlex"):
        make_encoder(str(naflex), Settings())
    with pytest.raises(ConfigError, match="PICSIFT_TEXT_MODEL"):
        make_encoder(str(checkpoint), Settings(text_model="toy"))
    with pytest.raises(ConfigError, match="PICSIFT_TEXT_QUANTIZATION"):
        make_encoder(str(checkpoint), Settings(text_quantization="int8"))


@pytest.mark.parametrize("checkpoint", ["gemma"], indirect=True)
def test_a_siglip_store_indexes_and_searches(checkpoint, tmp_path):
    from cli.main import app
    from picsift.store.edge import EdgeStore

    media = tmp_path / "media"
    media.mkdir()
    for i, (image, _, _) in enumerate(sample(6, seed=3)):
        image.save(media / f"{i}.png")
    base = ["--store", str(tmp_path / "store"), "--model", str(checkpoint)]
    runner = CliRunner()
    indexed = runner.invoke(app, [*base, "index", str(media), "--no-captions"])
    assert indexed.exit_code == 0, indexed.output
    found = runner.invoke(app, [*base, "search", "red circle", "--mode", "image", "--json"])
    assert found.exit_code == 0, found.output
    hits = json.loads(found.output)["hits"]
    assert len(hits) == 6 and all(-1 <= h["score"] <= 1 for h in hits)
    out = tmp_path / "red.csv"
    exported = runner.invoke(
        app, [*base, "export", "red circle", "--mode", "image", "--limit", "3", "--out", str(out)]
    )
    assert exported.exit_code == 0, exported.output
    manifest = json.loads((tmp_path / "red.csv.manifest.json").read_text())
    assert "the model reads cosine c as a match probability of sigmoid(" in manifest["score"]
    assert "(cosine, SigLIP)" in manifest["selection"]
    assert manifest["query_encoding"].endswith(f"lowercased, padded to {TEXT_LENGTH} tokens")
    with EdgeStore(tmp_path / "store") as store:
        assert store.meta.model == str(checkpoint.resolve()) and store.meta.dim == HIDDEN
