"""The text side read on its own (`clip_text`, `text_tower`) gives sentence-transformers' own
text vectors: same token ids, same embeddings, on the toy model and on random towers of the
ViT-B/32 text geometry; folders it cannot read exactly go through sentence-transformers."""

from __future__ import annotations

import json
import random
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
from picsift.models.clip_tokenizer import VocabMerges
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


def test_a_pytorch_model_bin_checkpoint_reads_the_same(tmp_path):
    """Older hub folders have `pytorch_model.bin` rather than safetensors."""
    from safetensors.torch import load_file

    root = _st_layout(tmp_path)
    weights = root / MODULE / "model.safetensors"
    torch.save(load_file(weights), root / MODULE / "pytorch_model.bin")
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


# The default model, sentence-transformers/clip-ViT-B-32, has no tokenizer.json: its
# 0_CLIPModel has vocab.json and merges.txt, and the tokenizer files transformers 4 wrote.
AWKWARD = [
    "A Red CIRCLE on a Blue square",
    "don't stop, it's 3 o'clock; we're late, THEY'LL wait",
    "12 circles, 3.5 squares and 1,000 triangles",
    "café naïve Ünïcödé e\u0301 \uff21\uff22\uff23 ☃ 🤖 👍🏽",  # combining, full-width
    "many   spaces\n\nnew\tlines\u00a0and\u2003others ",
    "<|endoftext|>",
    "red<|endoftext|>circle <|startoftext|> <|ENDOFTEXT|> <|StartOfText|>",
    "hello...world!!! ??? (a-b_c/d\\e) «quote» “smart”",
    "",
    "red circle " * 40,  # past 77 tokens (and the toy's 32): truncated
]


def _added_token(content: str, **options: bool) -> dict:
    """A special token as transformers 4 serialised it."""
    flags = {"single_word": False, "lstrip": False, "rstrip": False, "normalized": True}
    return {"content": content, **flags, **options}


def _vocab_merges(folder: Path) -> Path:
    """`folder`'s tokenizer rewritten as the default model's 0_CLIPModel has it: vocab.json and
    merges.txt, tokenizer_config.json and special_tokens_map.json, no tokenizer.json; the image
    processor in preprocessor_config.json."""
    from tokenizers import Tokenizer

    max_length = json.loads((folder / "tokenizer_config.json").read_text())["model_max_length"]
    assert Tokenizer.from_file(str(folder / "tokenizer.json")).model.save(str(folder)) == [
        str(folder / "vocab.json"),
        str(folder / "merges.txt"),
    ]
    (folder / "tokenizer.json").unlink()
    processor = json.loads((folder / "processor_config.json").read_text())
    (folder / "preprocessor_config.json").write_text(json.dumps(processor["image_processor"]))
    (folder / "processor_config.json").unlink()
    named = {
        "unk_token": _added_token("<|endoftext|>"),
        "bos_token": _added_token("<|startoftext|>"),
        "eos_token": _added_token("<|endoftext|>"),
        "pad_token": "<|endoftext|>",
    }
    config = {
        **{k: v | {"__type": "AddedToken"} if isinstance(v, dict) else v for k, v in named.items()},
        "add_prefix_space": False,
        "errors": "replace",
        "do_lower_case": True,
        "name_or_path": "openai/clip-vit-base-patch32",
        "model_max_length": max_length,
        "special_tokens_map_file": "./special_tokens_map.json",
        "tokenizer_class": "CLIPTokenizer",
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    (folder / "special_tokens_map.json").write_text(json.dumps(named))
    return folder


def _default_layout(tmp_path: Path) -> Path:
    root = _st_layout(tmp_path)
    _vocab_merges(root / MODULE)
    return root


def _transformers_ids(folder: Path, texts: list[str]) -> dict[str, torch.Tensor]:
    """transformers' own CLIPTokenizer on `folder`, padded and truncated as
    sentence-transformers asks."""
    from transformers import CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(str(folder))
    return tokenizer(texts, padding=True, truncation=True, return_tensors="pt")


def _assert_same_ids(ours: ClipText, folder: Path, texts: list[str]) -> None:
    mine, theirs = ours.preprocess(texts), _transformers_ids(folder, texts)
    assert mine["input_ids"].tolist() == theirs["input_ids"].tolist()
    assert mine["attention_mask"].tolist() == theirs["attention_mask"].tolist()


def test_the_default_model_layout_is_read_directly(tmp_path):
    root = _default_layout(tmp_path)
    spec = read_spec(root)
    assert isinstance(spec.tokenizer, VocabMerges)
    encoder = _direct(root)
    _assert_same_ids(encoder.text_encoder, root / MODULE, AWKWARD)
    assert encoder.text_encoder.preprocess(AWKWARD)["input_ids"].shape[1] == 32
    np.testing.assert_allclose(encoder.embed_texts(AWKWARD), _st_vectors(root, AWKWARD), atol=1e-5)


def test_the_default_model_layout_loads_neither_sentence_transformers_nor_transformers(
    tmp_path,
):
    root = _default_layout(tmp_path)
    code = f"""
import json, sys
from picsift.models.clip_text import ClipText
from picsift.models.encoder import ClipEncoder
from picsift.models.runtime import Runtime
encoder = ClipEncoder({str(root)!r}, runtime=Runtime("cpu", "fp32", "test"))
vectors = encoder.embed_texts({AWKWARD!r})
print(json.dumps({{
    "direct": isinstance(encoder.text_encoder, ClipText),
    "loaded": [m for m in ("transformers", "sentence_transformers") if m in sys.modules],
    "vectors": vectors.tolist(),
}}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["direct"] and result["loaded"] == []
    np.testing.assert_allclose(np.array(result["vectors"]), _st_vectors(root, AWKWARD), atol=1e-5)


def _trained_vocab() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """A CLIP vocabulary of some 1,400 tokens and 1,100 merges, trained by transformers'
    CLIPTokenizer on generated captions (accents, digits, contractions, emoji), with CLIP's
    two markers last as in CLIP's own."""
    from transformers import CLIPTokenizer

    rng = random.Random(0)
    syllables = ["ka", "ro", "mi", "te", "su", "na", "lo", "ve", "ré", "çi", "ø", "ün", "str"]
    words = ["".join(rng.choices(syllables, k=rng.randint(1, 4))) for _ in range(1500)]
    words += ["a", "red", "circle", "photo", "of", "the", "don't", "it's", "café", "42", "🤖"]
    lines = [
        " ".join(rng.choices(words, k=rng.randint(3, 12))) + rng.choice(".!?, ")
        for _ in range(4000)
    ]
    markers = ["<|startoftext|>", "<|endoftext|>"]
    untrained = CLIPTokenizer(vocab={m: i for i, m in enumerate(markers)}, merges=[])
    trained = untrained.train_new_from_iterator(lines, vocab_size=3000).backend_tokenizer
    model = json.loads(trained.to_str())["model"]
    tokens = sorted(set(model["vocab"]) - set(markers), key=model["vocab"].get) + markers
    return {t: i for i, t in enumerate(tokens)}, [tuple(m) for m in model["merges"]]


def test_a_trained_vocabulary_matches_transformers_and_sentence_transformers(tmp_path):
    """The toy's 57 merges hardly exercise BPE; a trained vocabulary of ViT-B/32's text
    geometry does, in the default model's layout."""
    vocab, merges = _trained_vocab()
    assert len(merges) > 1000
    path = _vocab_merges(_random_clip(tmp_path / "clip", vocab_merges=(vocab, merges)))
    encoder = _direct(path)
    texts = [*AWKWARD, *RANDOM_TEXTS]
    _assert_same_ids(encoder.text_encoder, path, texts)
    merged = encoder.text_encoder.tokenizer.encode("a red circle, it's café").tokens
    assert merged[1:-1] == [
        "a</w>",
        "red</w>",
        "circle</w>",
        ",</w>",
        "it</w>",
        "'s</w>",
        "cafÃ©</w>",
    ]
    np.testing.assert_allclose(encoder.embed_texts(texts), _st_vectors(path, texts), atol=1e-5)


def _config(folder: Path, edit) -> None:
    _edit_json(folder / "tokenizer_config.json", edit)


def _tokens_map(folder: Path, edit) -> None:
    _edit_json(folder / "special_tokens_map.json", edit)


def _no_tokens_map(folder: Path) -> None:
    (folder / "special_tokens_map.json").unlink()


def _strings(config: dict) -> None:
    config.update({k: v["content"] for k, v in config.items() if isinstance(v, dict)})


def _no_named_tokens(config: dict) -> None:
    for key in [k for k in config if k.endswith("_token")]:
        del config[key]


def _drop_normalized(data: dict) -> None:
    for value in data.values():
        if isinstance(value, dict):
            value.pop("normalized")


SPECIAL_TOKEN_VARIANTS = {  # other ways a vocab/merges folder (`_vocab_merges`) names them
    "strings only": lambda f: (_config(f, _strings), _no_tokens_map(f)),
    "none named (CLIPTokenizer's defaults)": lambda f: (
        _config(f, _no_named_tokens),
        _no_tokens_map(f),
    ),
    "config AddedTokens without normalized": lambda f: (
        _config(f, _drop_normalized),
        _no_tokens_map(f),
    ),
    "config AddedTokens not special, without normalized": lambda f: (
        _config(f, _drop_normalized),
        _config(f, lambda c: c["bos_token"].update(special=False)),
        _no_tokens_map(f),
    ),
    "map AddedTokens without normalized": lambda f: _tokens_map(f, _drop_normalized),
    "markers as single words, stripping white space": lambda f: _tokens_map(
        f,
        lambda m: m.update(
            bos_token=_added_token("<|startoftext|>", lstrip=True, rstrip=True),
            pad_token=_added_token("<|endoftext|>", single_word=True, normalized=False),
        ),
    ),
    "the map overrides the config": lambda f: (
        _config(f, lambda c: c.update(pad_token="<|startoftext|>")),
        _tokens_map(f, lambda m: m.update(pad_token=_added_token("<|endoftext|>"))),
    ),
    "a token not in vocab.json": lambda f: _tokens_map(
        f, lambda m: m.update(bos_token=_added_token("<|bos|>"))
    ),
}


@pytest.mark.parametrize("variant", list(SPECIAL_TOKEN_VARIANTS), ids=list(SPECIAL_TOKEN_VARIANTS))
def test_special_token_options_are_those_of_transformers(tmp_path, variant):
    folder = _vocab_merges(shutil.copytree(TOY_CLIP_DIR, tmp_path / "clip"))
    SPECIAL_TOKEN_VARIANTS[variant](folder)
    spec = read_spec(folder)
    assert isinstance(spec.tokenizer, VocabMerges)
    _assert_same_ids(ClipText.load(spec, "cpu"), folder, AWKWARD)


UNREADABLE_VOCAB_MERGES = {  # edits of the default model's 0_CLIPModel (`_default_layout`)
    "no merges.txt": lambda f: (f / "merges.txt").unlink(),
    "added_tokens.json": lambda f: (f / "added_tokens.json").write_text('{"<|extra|>": 571}'),
    "added_tokens_decoder": lambda f: _config(f, lambda c: c.update(added_tokens_decoder={})),
    "additional special tokens": lambda f: _config(
        f, lambda c: c.update(additional_special_tokens=["<|extra|>"])
    ),
    "a sep token": lambda f: _tokens_map(f, lambda m: m.update(sep_token="<|sep|>")),
    "left padding": lambda f: _config(f, lambda c: c.update(padding_side="left")),
    "special tokens split": lambda f: _config(f, lambda c: c.update(split_special_tokens=True)),
    "an AddedToken transformers rejects": lambda f: _tokens_map(
        f, lambda m: m["bos_token"].update(__type="AddedToken")
    ),
}


@pytest.mark.parametrize("change", list(UNREADABLE_VOCAB_MERGES), ids=list(UNREADABLE_VOCAB_MERGES))
def test_vocab_merges_it_cannot_read_exactly_are_refused(tmp_path, change):
    root = _default_layout(tmp_path)
    assert read_spec(root) is not None
    UNREADABLE_VOCAB_MERGES[change](root / MODULE)
    assert read_spec(root) is None
