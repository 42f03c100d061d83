"""The committed toy models load through the standard loaders and really know their shapes."""

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from sentence_transformers import SentenceTransformer
from transformers import AutoImageProcessor, AutoTokenizer, VisionEncoderDecoderModel

from picsift.models.toy import (
    COLORS,
    SHAPES,
    TOY_CAPTIONER_DIR,
    TOY_CLIP_DIR,
    caption,
    render,
    sample,
)

# Seeds far from the training seed (0), so every image here is fresh.
EVAL_SEED = 9_001
ALL_CAPTIONS = [caption(c, s) for c in COLORS for s in SHAPES]


@pytest.fixture(scope="module")
def clip() -> SentenceTransformer:
    return SentenceTransformer(str(TOY_CLIP_DIR), device="cpu")


def _dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.iterdir() if f.is_file())


def _zero_shot(clip: SentenceTransformer, images: list[Image.Image]) -> list[str]:
    text = clip.encode(ALL_CAPTIONS, normalize_embeddings=True)
    image = clip.encode(images, normalize_embeddings=True)
    return [ALL_CAPTIONS[i] for i in (image @ text.T).argmax(axis=1)]


def _as_jpeg(image: Image.Image) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return Image.open(io.BytesIO(buffer.getvalue()))


def test_sample_is_deterministic_per_seed() -> None:
    first, again, other = sample(12, 7), sample(12, 7), sample(12, 8)
    assert [(c, s) for _, c, s in first] == [(c, s) for _, c, s in again]
    assert all(
        a.tobytes() == b.tobytes() for (a, _, _), (b, _, _) in zip(first, again, strict=True)
    )
    assert any(
        a.tobytes() != b.tobytes() for (a, _, _), (b, _, _) in zip(first, other, strict=True)
    )


def test_sample_is_balanced_and_well_formed() -> None:
    items = sample(48, 3, size=96)
    counts = {(c, s): 0 for c in COLORS for s in SHAPES}
    for image, color, shape in items:
        assert image.mode == "RGB"
        assert image.size == (96, 96)
        counts[color, shape] += 1
    assert set(counts.values()) == {4}


def test_render_draws_the_colour_on_a_neutral_background() -> None:
    pixels = np.asarray(render("red", "square", np.random.default_rng(1), size=224), dtype=int)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    red = (r > 150) & (g < 100) & (b < 100)
    assert 0.02 < red.mean() < 0.5
    corners = pixels[[0, 0, -1, -1], [0, -1, 0, -1]]
    assert (np.ptp(corners, axis=1) < 50).all()


def test_caption_format_and_validation() -> None:
    assert caption("red", "circle") == "a red circle"
    with pytest.raises(ValueError):
        caption("purple", "circle")


def test_artifacts_are_small() -> None:
    assert _dir_bytes(TOY_CLIP_DIR) < 2_000_000
    assert _dir_bytes(TOY_CAPTIONER_DIR) < 3_000_000


def test_clip_embeddings_are_normalised_and_unknown_words_tokenize(clip) -> None:
    embeddings = clip.encode(["red circle", "a zebra on the moon"], normalize_embeddings=True)
    assert embeddings.shape == (2, clip.get_embedding_dimension())
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, rtol=1e-5)
    tokenizer = clip[0].processor.tokenizer
    assert tokenizer.unk_token_id not in tokenizer("a zebra on the moon").input_ids[1:-1]


def test_clip_zero_shot_accuracy(clip) -> None:
    items = sample(120, EVAL_SEED)
    predicted = _zero_shot(clip, [image for image, _, _ in items])
    truth = [caption(c, s) for _, c, s in items]
    accuracy = np.mean([p == t for p, t in zip(predicted, truth, strict=True)])
    assert accuracy >= 0.90


def test_clip_zero_shot_on_large_jpegs(clip) -> None:
    items = sample(36, EVAL_SEED + 1, size=320)
    predicted = _zero_shot(clip, [_as_jpeg(image) for image, _, _ in items])
    truth = [caption(c, s) for _, c, s in items]
    assert np.mean([p == t for p, t in zip(predicted, truth, strict=True)]) >= 0.85


def test_clip_text_query_retrieves_red_circles_first(clip) -> None:
    items = sample(120, EVAL_SEED + 2)
    image = clip.encode([image for image, _, _ in items], normalize_embeddings=True)
    query = clip.encode(["red circle"], normalize_embeddings=True)[0]
    top10 = np.argsort(-(image @ query))[:10]
    assert [(items[i][1], items[i][2]) for i in top10] == [("red", "circle")] * 10


def test_captioner_generates_the_right_caption() -> None:
    model = VisionEncoderDecoderModel.from_pretrained(TOY_CAPTIONER_DIR)
    processor = AutoImageProcessor.from_pretrained(TOY_CAPTIONER_DIR)
    tokenizer = AutoTokenizer.from_pretrained(TOY_CAPTIONER_DIR)
    items = sample(24, EVAL_SEED + 3)
    pixels = processor(images=[image for image, _, _ in items], return_tensors="pt").pixel_values
    with torch.inference_mode():
        ids = model.generate(pixel_values=pixels, max_new_tokens=12, num_beams=1)
    captions = [text.strip() for text in tokenizer.batch_decode(ids, skip_special_tokens=True)]
    truth = [caption(c, s) for _, c, s in items]
    assert all(text.startswith("a ") for text in captions)
    assert np.mean([p == t for p, t in zip(captions, truth, strict=True)]) >= 0.70
