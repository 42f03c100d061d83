"""The default model's tokenizer files (vocab.json and merges.txt, no tokenizer.json) read
without transformers (`clip_tokenizer`) give transformers' own CLIPTokenizer ids and
sentence-transformers' vectors; special-token options as transformers reads them; layouts it
cannot read exactly go through sentence-transformers."""

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

from picsift.models.clip_text import ClipText, read_spec
from picsift.models.clip_tokenizer import VocabMerges
from picsift.models.toy import TOY_CLIP_DIR
from tests.models.test_clip_text import (
    MODULE,
    RANDOM_TEXTS,
    _direct,
    _edit_json,
    _random_clip,
    _st_layout,
    _st_vectors,
)

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
