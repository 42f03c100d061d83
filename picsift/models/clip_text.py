"""A CLIP model's text side on its own, for queries: the tokenizer (`clip_tokenizer`, on
`tokenizers`) and the text tower (`text_tower`, plain torch), read from the model folder
without sentence-transformers or transformers.

A one-shot `picsift search` on the toy model took 8.4 s on the development machine: importing
sentence-transformers was 3.8 s of it (it drags in scikit-learn and pandas), and transformers'
CLIP model code alone imports in 2.7 s after torch's 1.4 s. A query needs none of that, nor
the image tower.

The vectors are sentence-transformers' own: for a CLIP folder its Transformer module tokenizes
with the folder's CLIPTokenizer (padded to the longest text, truncated at `model_max_length`)
and takes `CLIPModel.get_text_features`; the tests hold the two paths to 1e-5. `read_spec`
accepts only folders it can read exactly so: a plain Hugging Face CLIP folder, or a
sentence-transformers folder whose one module is a legacy `CLIPModel` with no settings of its
own (how sentence-transformers published its CLIP models), with one checkpoint file, a config
that spells out the text tower, and a CLIP tokenizer that `clip_tokenizer` reads exactly:
a `tokenizer.json`, or a `vocab.json` and `merges.txt` (the default model's) with nothing
beyond CLIP's named special tokens. Anything else gives None and goes through
sentence-transformers as before.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from picsift.models.clip_tokenizer import TokenizerFile, VocabMerges, read_json, read_tokenizer

if TYPE_CHECKING:
    import torch
    from tokenizers import Tokenizer

    from picsift.models.text_tower import TextTower

WEIGHTS = ("model.safetensors", "pytorch_model.bin")
CLIP_TOKENIZERS = {None, "CLIPTokenizer", "CLIPTokenizerFast"}
LEGACY_CLIP_MODULE = "sentence_transformers.models.CLIPModel"
# What the tower needs from text_config; a config that leaves one to transformers' defaults is
# left to transformers.
TEXT_CONFIG = (
    "num_attention_heads",
    "layer_norm_eps",
    "hidden_act",
    "eos_token_id",
    "max_position_embeddings",
)


@dataclass(frozen=True)
class TextSpec:
    """What the text side of a CLIP folder is made of, read from its JSON files."""

    folder: Path
    weights: Path
    heads: int
    eps: float
    activation: str
    eos_token_id: int
    max_length: int
    tokenizer: TokenizerFile | VocabMerges
    projection_dim: int | None
    dtype: str | None


def read_spec(path: str | Path) -> TextSpec | None:
    """The text side of the model folder at `path`, or None when it is not a folder this module
    reads exactly as sentence-transformers would (see the module docstring): among others a
    folder with neither `tokenizer.json` nor `vocab.json` and `merges.txt`, or whose vocab and
    merges come with added tokens or tokenizer settings beyond CLIP's named special tokens
    (`clip_tokenizer` lists the settings it knows to leave the ids alone)."""
    root = Path(path)
    folder = _clip_folder(root) if root.is_dir() else None
    if folder is None:
        return None
    config = read_json(folder / "config.json")
    tokenizer = read_json(folder / "tokenizer_config.json")
    text = config.get("text_config") or {}
    weights = next((folder / n for n in WEIGHTS if (folder / n).is_file()), None)
    files = read_tokenizer(folder, tokenizer)
    if (
        config.get("model_type") != "clip"
        or not all(key in text for key in TEXT_CONFIG)
        or text["hidden_act"] not in ("quick_gelu", "gelu")
        or weights is None
        or files is None
        or tokenizer.get("tokenizer_class") not in CLIP_TOKENIZERS
    ):
        return None
    # sentence-transformers truncates at the tokenizer's model_max_length alone; a folder
    # without one would fail on a long text there, and is cut at the position table here.
    positions = int(text["max_position_embeddings"])
    max_length = min(int(tokenizer.get("model_max_length", positions)), positions)
    return TextSpec(
        folder=folder,
        weights=weights,
        heads=int(text["num_attention_heads"]),
        eps=float(text["layer_norm_eps"]),
        activation=text["hidden_act"],
        eos_token_id=int(text["eos_token_id"]),
        max_length=max_length,
        tokenizer=files,
        projection_dim=config.get("projection_dim"),
        dtype=config.get("dtype") or config.get("torch_dtype"),
    )


def _clip_folder(root: Path) -> Path | None:
    """The folder with the CLIP files: `root` itself, or the one module of a
    sentence-transformers folder when that module is a plain CLIP with no settings of its own."""
    if not (root / "modules.json").is_file():
        return root
    modules = json.loads((root / "modules.json").read_text())
    if len(modules) != 1 or modules[0].get("type") != LEGACY_CLIP_MODULE:
        return None
    folder = root / modules[0]["path"]
    pipeline = read_json(root / "config_sentence_transformers.json")
    # A module config (lengths, kwargs), a default prompt or a cut dimension change the vectors.
    if (
        any(folder.glob("sentence_*config.json"))
        or pipeline.get("default_prompt_name")
        or pipeline.get("truncate_dim")
    ):
        return None
    return folder


class ClipText:
    """Texts -> CLIP text embeddings, with a folder's own tokenizer and text tower."""

    def __init__(self, tokenizer: Tokenizer, tower: TextTower, device: str):
        self.tokenizer = tokenizer
        self.tower = tower
        self.device = device

    @classmethod
    def load(cls, spec: TextSpec, device: str) -> ClipText:
        """Read the tokenizer and the text tower of `spec`'s folder onto `device`.

        Raises:
            ValueError: the checkpoint has no text tower that fits the config, or the
                tokenizer has no pad token.
        """
        from picsift.models.text_tower import load_text_tower

        tokenizer = spec.tokenizer.load()
        pad = spec.tokenizer.pad_token
        pad_id = tokenizer.token_to_id(pad)
        if pad_id is None:
            raise ValueError(f"{spec.folder}: pad token {pad!r} not in its tokenizer")
        # What transformers sets for padding=True, truncation="longest_first" on each call.
        tokenizer.enable_truncation(spec.max_length, strategy="longest_first")
        tokenizer.enable_padding(pad_id=pad_id, pad_token=pad)
        tower = load_text_tower(
            spec.weights, spec.heads, spec.eps, spec.activation, spec.eos_token_id, spec.dtype
        )
        return cls(tokenizer, tower.to(device), device)

    def get_embedding_dimension(self) -> int:
        """Embedding dimension (named as sentence-transformers names it)."""
        return self.tower.dim

    def preprocess(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        """Token ids and attention mask of `texts`, padded to the longest (as
        sentence-transformers' `preprocess` gives them for a CLIP model)."""
        import torch

        encoded = self.tokenizer.encode_batch(list(texts))
        return {
            "input_ids": torch.tensor([e.ids for e in encoded], dtype=torch.long),
            "attention_mask": torch.tensor([e.attention_mask for e in encoded], dtype=torch.long),
        }

    def encode(self, texts: Sequence[str], batch_size: int) -> torch.Tensor:
        """Unnormalised embeddings of `texts`, shape (len(texts), dim), on this device; run it
        under `torch.inference_mode()` and the runtime's autocast."""
        import torch

        out = []
        for start in range(0, len(texts), batch_size):
            features = self.preprocess(texts[start : start + batch_size])
            out.append(
                self.tower(
                    features["input_ids"].to(self.device),
                    features["attention_mask"].to(self.device),
                )
            )
        return torch.cat(out)
