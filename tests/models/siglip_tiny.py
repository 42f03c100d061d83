"""Tiny random-initialised SigLIP checkpoints, saved as the hub's are: config.json (model_type
"siglip"), model.safetensors, preprocessor_config.json, and the tokenizer as SigLIP ships it
(sentencepiece `spiece.model`) or as SigLIP 2 does (Gemma `tokenizer.json`)."""

from __future__ import annotations

from pathlib import Path

WORDS = [
    "a",
    "photo",
    "of",
    "red",
    "green",
    "blue",
    "yellow",
    "circle",
    "square",
    "triangle",
    "shape",
]
HIDDEN = 32
IMAGE_SIZE = 32
TEXT_LENGTH = 16


def _sentencepiece(folder: Path) -> object:
    import sentencepiece as spm
    from transformers import SiglipTokenizer

    lines = [f"a photo of a {c} {s}" for c in WORDS[3:7] for s in WORDS[7:]] * 20
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_prefix=str(folder / "spiece"),
        vocab_size=40,
        hard_vocab_limit=False,
        model_type="unigram",
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        minloglevel=2,
    )
    return SiglipTokenizer(vocab_file=str(folder / "spiece.model"))


def _gemma() -> object:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GemmaTokenizerFast

    specials = ["<pad>", "<eos>", "<bos>", "<unk>"]
    vocab = {w: i for i, w in enumerate([*specials, *WORDS])}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    return GemmaTokenizerFast(
        tokenizer_object=tokenizer,
        pad_token="<pad>",
        eos_token="<eos>",
        bos_token="<bos>",
        unk_token="<unk>",
    )


def tiny_siglip(folder: Path, tokenizer: str, seed: int = 0) -> Path:
    """Write a tiny SigLIP checkpoint to `folder` with a `sentencepiece` (SigLIP) or `gemma`
    (SigLIP 2) tokenizer; returns the folder."""
    import torch
    from transformers import SiglipConfig, SiglipImageProcessor, SiglipModel

    folder.mkdir(parents=True, exist_ok=True)
    tok = _sentencepiece(folder) if tokenizer == "sentencepiece" else _gemma()
    layers = {"intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}
    text = {
        **layers,
        "hidden_size": HIDDEN,
        "vocab_size": len(tok),
        "max_position_embeddings": TEXT_LENGTH,
        "pad_token_id": tok.pad_token_id,
        "eos_token_id": tok.eos_token_id,
    }
    vision = {**layers, "hidden_size": HIDDEN, "image_size": IMAGE_SIZE, "patch_size": 8}
    torch.manual_seed(seed)
    model = SiglipModel(SiglipConfig(text_config=text, vision_config=vision)).eval()
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    SiglipImageProcessor(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}).save_pretrained(folder)
    return folder
