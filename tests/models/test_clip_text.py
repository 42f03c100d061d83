"""The text side read on its own (`clip_text`, `text_tower`) gives sentence-transformers' own
text vectors: same token ids, same embeddings, on the toy model and on random towers of the
ViT-B/32 text geometry; folders it cannot read exactly go through sentence-transformers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer

from picsift.errors import ConfigError
from picsift.models.clip_text import ClipText, read_spec
from picsift.models.encoder import ClipEncoder, normalise
from picsift.models.runtime import Runtime
from picsift.models.toy import COLORS, SHAPES, TOY_CLIP_DIR, caption

FP32 = Runtime("cpu", "fp32", "test")
BF16 = Runtime("cpu", "bf16", "test")
TEXTS = [
    *(caption(c, s) for c in COLORS for s in SHAPES),
    "red circle " * 30,  # past the toy's 32 tokens: truncated
    "",
    "A  BLUE\tSquare!!",
    "ünïcödé ☃ 🤖 circle",
    "<|endoftext|> red",
    "it's 3 o'clock",
]


def _st_vectors(path: Path | str, texts: list[str], runtime: Runtime = FP32) -> np.ndarray:
    """Today's text path: the whole SentenceTransformer."""
    model = SentenceTransformer(str(path), device="cpu").eval()
    with torch.inference_mode(), runtime.autocast():
        out = model.encode(texts, convert_to_tensor=True, show_progress_bar=False)
    return normalise(out.float().numpy())


def _direct(path: Path | str, runtime: Runtime = FP32) -> ClipEncoder:
    encoder = ClipEncoder(str(path), runtime=runtime)
    assert isinstance(encoder.text_encoder, ClipText), "the direct path was not taken"
    return encoder


def test_toy_texts_match_sentence_transformers():
    np.testing.assert_allclose(
        _direct(TOY_CLIP_DIR).embed_texts(TEXTS), _st_vectors(TOY_CLIP_DIR, TEXTS), atol=1e-5
    )


def test_toy_token_ids_match_sentence_transformers():
    ours = _direct(TOY_CLIP_DIR).text_encoder.preprocess(TEXTS)
    theirs = SentenceTransformer(str(TOY_CLIP_DIR), device="cpu").preprocess(TEXTS)
    assert ours["input_ids"].shape[1] == 32  # the long text was cut at model_max_length
    assert torch.equal(ours["input_ids"], theirs["input_ids"])
    assert torch.equal(ours["attention_mask"], theirs["attention_mask"])


def test_bf16_texts_match_sentence_transformers_under_the_same_autocast():
    ours = _direct(TOY_CLIP_DIR, BF16).embed_texts(TEXTS)
    theirs = _st_vectors(TOY_CLIP_DIR, TEXTS, BF16)
    assert (ours * theirs).sum(axis=1).min() >= 0.999


def _letters_vocab() -> tuple[dict[str, int], list[tuple[str, str]]]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = {c: i for i, c in enumerate(letters)} | {
        f"{c}</w>": 26 + i for i, c in enumerate(letters)
    }
    vocab |= {"re": 52, "red</w>": 53, "<|startoftext|>": 54, "<|endoftext|>": 55}
    return vocab, [("r", "e"), ("re", "d</w>")]


def _random_clip(
    path: Path,
    hidden_act: str = "quick_gelu",
    eos_token_id: int | None = None,
    vocab_merges: tuple[dict[str, int], list[tuple[str, str]]] | None = None,
):
    """A random CLIP with ViT-B/32's text width, heads and MLP (two layers; a letter
    vocabulary unless given one ending in CLIP's two markers), saved by transformers as a hub
    folder is."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

    vocab, merges = vocab_merges or _letters_vocab()
    tokenizer = CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77)
    eos = vocab["<|endoftext|>"]
    text = {
        "vocab_size": len(vocab),
        "num_hidden_layers": 2,
        "hidden_act": hidden_act,
        "bos_token_id": vocab["<|startoftext|>"],
        "eos_token_id": eos if eos_token_id is None else eos_token_id,
        "pad_token_id": eos,
    }
    vision = {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "image_size": 32,
        "patch_size": 16,
    }
    torch.manual_seed(0)
    CLIPModel(CLIPConfig(text_config=text, vision_config=vision)).save_pretrained(path)
    processor = CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    )
    CLIPProcessor(image_processor=processor, tokenizer=tokenizer).save_pretrained(path)
    return path


RANDOM_TEXTS = ["red", "a red circle", "abc xyz", "", "red " * 100, "Hello, World! 42"]


@pytest.mark.parametrize(
    ("hidden_act", "eos_token_id"),
    [("quick_gelu", None), ("gelu", None), ("quick_gelu", 2)],
    ids=["openai", "gelu", "pre-fix-eos-2"],
)
def test_random_vit_b32_text_geometry_matches_sentence_transformers(
    tmp_path, hidden_act, eos_token_id
):
    """Width 512, 8 heads, MLP 2048 as in ViT-B/32, both activations, and the pooling of
    configs that still say eos_token_id 2; a text past 77 tokens is cut."""
    path = _random_clip(tmp_path / "clip", hidden_act, eos_token_id)
    encoder = _direct(path)
    assert encoder.text_encoder.preprocess(RANDOM_TEXTS)["input_ids"].shape[1] == 77
    np.testing.assert_allclose(
        encoder.embed_texts(RANDOM_TEXTS), _st_vectors(path, RANDOM_TEXTS), atol=1e-5
    )


def test_the_tower_is_clip_get_text_features(tmp_path):
    """Against transformers itself, ids in and raw (unnormalised) features out."""
    from transformers import CLIPModel

    path = _random_clip(tmp_path / "clip")
    ours = _direct(path).text_encoder
    features = ours.preprocess(RANDOM_TEXTS)
    with torch.inference_mode():
        theirs = CLIPModel.from_pretrained(path).eval().get_text_features(**features).pooler_output
        torch.testing.assert_close(ours.tower(**features), theirs, rtol=0, atol=1e-5)


MODULE = "0_CLIPModel"


def _st_layout(tmp_path: Path) -> Path:
    """The layout sentence-transformers published its CLIP models in: modules.json naming one
    legacy CLIPModel module, in a subfolder."""
    root = tmp_path / "st-clip"
    shutil.copytree(TOY_CLIP_DIR, root / MODULE)
    module = {
        "idx": 0,
        "name": "0",
        "path": MODULE,
        "type": "sentence_transformers.models.CLIPModel",
    }
    (root / "modules.json").write_text(json.dumps([module]))
    (root / "config_sentence_transformers.json").write_text(
        json.dumps(
            {
                "__version__": {"sentence_transformers": "2.0.0"},
                "prompts": {},
                "default_prompt_name": None,
            }
        )
    )
    return root


def test_a_sentence_transformers_clip_folder_is_read_directly(tmp_path):
    root = _st_layout(tmp_path)
    assert read_spec(root).folder == root / MODULE
    np.testing.assert_allclose(
        _direct(root).embed_texts(TEXTS), _st_vectors(root, TEXTS), atol=1e-5
    )


def test_a_sentence_transformers_pipeline_goes_through_sentence_transformers(tmp_path):
    """A folder saved by today's sentence-transformers has a module config of its own: that
    one is left to sentence-transformers, and gives the same vectors through it."""
    saved = tmp_path / "saved"
    SentenceTransformer(str(TOY_CLIP_DIR), device="cpu").save(str(saved))
    assert read_spec(saved) is None
    encoder = ClipEncoder(str(saved), runtime=FP32)
    assert isinstance(encoder.text_encoder, SentenceTransformer)
    np.testing.assert_allclose(
        encoder.embed_texts(TEXTS), _direct(TOY_CLIP_DIR).embed_texts(TEXTS), atol=1e-5
    )


@pytest.mark.parametrize("zipped", [True, False], ids=["torch >= 1.6 format", "older format"])
def test_a_pytorch_model_bin_checkpoint_reads_the_same(tmp_path, zipped):
    """Older hub folders have `pytorch_model.bin` rather than safetensors (saved before torch
    1.6, not a zip, so not memory-mappable)."""
    from safetensors.torch import load_file

    root = _st_layout(tmp_path)
    weights = root / MODULE / "model.safetensors"
    checkpoint = root / MODULE / "pytorch_model.bin"
    torch.save(load_file(weights), checkpoint, _use_new_zipfile_serialization=zipped)
    weights.unlink()
    assert read_spec(root).weights.name == "pytorch_model.bin"
    np.testing.assert_allclose(
        _direct(root).embed_texts(TEXTS), _st_vectors(TOY_CLIP_DIR, TEXTS), atol=1e-5
    )


def _edit_json(path: Path, edit) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


UNREADABLE = {  # edits of a sentence-transformers CLIP folder (`_st_layout`)
    "config leaves layer_norm_eps to transformers": lambda root: _edit_json(
        root / MODULE / "config.json", lambda c: c["text_config"].pop("layer_norm_eps")
    ),
    "an activation the tower does not have": lambda root: _edit_json(
        root / MODULE / "config.json", lambda c: c["text_config"].update(hidden_act="relu")
    ),
    "another tokenizer class": lambda root: _edit_json(
        root / MODULE / "tokenizer_config.json", lambda c: c.update(tokenizer_class="BertTokenizer")
    ),
    "no tokenizer files": lambda root: (root / MODULE / "tokenizer.json").unlink(),
    "truncation on the left": lambda root: _edit_json(
        root / MODULE / "tokenizer_config.json", lambda c: c.update(truncation_side="left")
    ),
    "a module config": lambda root: (root / MODULE / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": 8})
    ),
    "a second module": lambda root: _edit_json(
        root / "modules.json", lambda m: m.append({"idx": 1, "name": "1", "path": "1_Normalize"})
    ),
    "a default prompt": lambda root: _edit_json(
        root / "config_sentence_transformers.json",
        lambda c: c.update(prompts={"query": "a photo of "}, default_prompt_name="query"),
    ),
}


@pytest.mark.parametrize("change", list(UNREADABLE), ids=list(UNREADABLE))
def test_folders_it_cannot_read_exactly_are_refused(tmp_path, change):
    root = _st_layout(tmp_path)
    assert read_spec(root) is not None
    UNREADABLE[change](root)
    assert read_spec(root) is None


def test_a_refused_folder_still_encodes_through_sentence_transformers(tmp_path):
    root = _st_layout(tmp_path)
    UNREADABLE["config leaves layer_norm_eps to transformers"](root)
    encoder = ClipEncoder(str(root), runtime=FP32)
    assert isinstance(encoder.text_encoder, SentenceTransformer)
    np.testing.assert_allclose(
        encoder.embed_texts(TEXTS), _direct(TOY_CLIP_DIR).embed_texts(TEXTS), atol=1e-5
    )


def test_a_separate_text_model_is_read_directly_too(tmp_path):
    copy = tmp_path / "text-clip"
    shutil.copytree(TOY_CLIP_DIR, copy)
    encoder = ClipEncoder("toy", text_model=str(copy), runtime=FP32)
    assert isinstance(encoder.text_encoder, ClipText)
    np.testing.assert_allclose(
        encoder.embed_texts(TEXTS), _st_vectors(TOY_CLIP_DIR, TEXTS), atol=1e-5
    )


def test_a_text_model_of_another_dimension_is_a_config_error(tmp_path):
    other = _random_clip(tmp_path / "clip")  # 512-d, the toy's are 64-d
    encoder = ClipEncoder("toy", text_model=str(other), runtime=FP32)
    with pytest.raises(ConfigError, match=r"PICSIFT_TEXT_MODEL .* gives 512-d vectors .* 64-d"):
        encoder.embed_texts(["red"])


SHARED = """
import numpy as np
from picsift.models.encoder import ClipEncoder
from picsift.models.runtime import Runtime
from picsift.models.toy import sample

encoder = ClipEncoder("toy", runtime=Runtime("cpu", "fp32", "test"))
images = [image for image, _, _ in sample(4, seed=1)]
texts = ["a red circle", "blue square " * 20]
first = {ORDER}
vectors = {{}}
for step in first:
    vectors[step] = encoder.embed_texts(texts) if step == "texts" else encoder.embed_images(images)
clip, tower = encoder.model[0].model, encoder.text_encoder.tower
assert clip.text_projection.weight.data_ptr() == tower.text_projection.weight.data_ptr()
name = "text_model.encoder.layers.0.self_attn.q_proj.weight"
ours, theirs = dict(tower.named_parameters())[name], dict(clip.named_parameters())[name]
assert ours.data_ptr() == theirs.data_ptr()
assert np.array_equal(encoder.embed_texts(texts), vectors["texts"])
assert np.array_equal(encoder.embed_images(images), vectors["images"])
print("shared")
"""


@pytest.mark.parametrize("order", [("texts", "images"), ("images", "texts")])
def test_a_process_that_embeds_images_and_texts_holds_the_text_weights_once(order):
    """A server loads the image SentenceTransformer and the text side alone: the former's text
    tower then uses the latter's tensors, whichever loaded first, and no vector changes."""
    code = SHARED.format(ORDER=repr(order))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "shared", out.stderr
