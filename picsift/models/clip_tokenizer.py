"""A CLIP folder's tokenizer as a `tokenizers.Tokenizer`, without transformers: from its
`tokenizer.json`, or from `vocab.json` and `merges.txt` where a folder predates serialised fast
tokenizers (sentence-transformers' `clip-ViT-B-32`, the default model, is one).

For the second kind the tokenizer is built as transformers 5's `CLIPTokenizer` builds it from
those two files: its BPE model, normalizer, pre-tokenizer and post-processor, and the named
special tokens of `tokenizer_config.json` and `special_tokens_map.json` added the way its
`from_pretrained` adds them. Decoding is left out: queries are only encoded. A folder with
anything else that could change the ids (extra added tokens, settings transformers would act
on) gets None, and `clip_text` leaves it to sentence-transformers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tokenizers import Tokenizer

# transformers adds a tokenizer's named special tokens in this order (its
# SPECIAL_TOKENS_ATTRIBUTES less sep, cls and mask, which CLIPTokenizer has none of), each
# overriding the options of one added before it with the same text; CLIPTokenizer's defaults.
SPECIAL_TOKENS = {
    "bos_token": "<|startoftext|>",
    "eos_token": "<|endoftext|>",
    "unk_token": "<|endoftext|>",
    "pad_token": "<|endoftext|>",
}
# tokenizer_config.json keys that CLIPTokenizer does not encode by (remnants of the slow
# tokenizer, bookkeeping, decoding); `model_max_length` is `clip_text`'s to read.
INERT_KEYS = {
    "add_prefix_space",  # stored, but the pre-tokenizer below is fixed
    "clean_up_tokenization_spaces",
    "do_lower_case",
    "errors",
    "model_max_length",
    "name_or_path",
    "processor_class",
    "special_tokens_map_file",  # transformers reads the folder's own file
    "tokenizer_class",
}
TOKEN_OPTIONS = {"content", "single_word", "lstrip", "rstrip", "normalized", "special"}
# What CLIP's pre-tokenizer keeps as pieces: its two markers, English contractions, runs of
# letters, single digits, runs of anything else that is not white space. (The byte-level step
# after it splits a marker again, as GPT-2's pattern does; kept as transformers has it.)
PIECES = "|".join(
    (
        r"<\|startoftext\|>",
        r"<\|endoftext\|>",
        *(f"'{end}" for end in ("s", "t", "re", "ve", "m", "ll", "d")),
        r"[\p{L}]+",
        r"[\p{N}]",
        r"[^\s\p{L}\p{N}]+",
    )
)


@dataclass(frozen=True)
class NamedToken:
    """A named special token with the options transformers gives it."""

    content: str
    single_word: bool = False
    lstrip: bool = False
    rstrip: bool = False
    normalized: bool = False


@dataclass(frozen=True)
class TokenizerFile:
    """A folder's `tokenizer.json`, read as it is."""

    path: Path
    pad_token: str

    def load(self) -> Tokenizer:
        """The tokenizer, without truncation or padding."""
        from tokenizers import Tokenizer

        return Tokenizer.from_file(str(self.path))


@dataclass(frozen=True)
class VocabMerges:
    """A folder's `vocab.json` and `merges.txt`, with its named special tokens in the order
    transformers adds them."""

    vocab: Path
    merges: Path
    special: tuple[tuple[str, NamedToken], ...]

    @property
    def pad_token(self) -> str:
        """The text of the pad token."""
        return dict(self.special)["pad_token"].content

    def load(self) -> Tokenizer:
        """The tokenizer, without truncation or padding."""
        from tokenizers import AddedToken, Regex, Tokenizer, normalizers, pre_tokenizers
        from tokenizers.models import BPE
        from tokenizers.processors import RobertaProcessing

        special = dict(self.special)
        bpe = BPE.from_file(
            str(self.vocab),
            str(self.merges),
            dropout=None,
            continuing_subword_prefix="",
            end_of_word_suffix="</w>",
            fuse_unk=False,
            unk_token=special["unk_token"].content,
        )
        tokenizer = Tokenizer(bpe)
        tokenizer.normalizer = normalizers.Sequence(
            [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
        )
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(PIECES), behavior="removed", invert=True),
                pre_tokenizers.ByteLevel(add_prefix_space=False),
            ]
        )
        # A token missing from vocab.json gets the next free id, as in transformers.
        tokenizer.add_special_tokens(
            [
                AddedToken(
                    t.content,
                    single_word=t.single_word,
                    lstrip=t.lstrip,
                    rstrip=t.rstrip,
                    normalized=t.normalized,
                    special=True,
                )
                for _, t in self.special
            ]
        )
        bos, eos = special["bos_token"].content, special["eos_token"].content
        # CLIPTokenizer's `<bos> text <eos>`, offsets as they are.
        tokenizer.post_processor = RobertaProcessing(
            (eos, tokenizer.token_to_id(eos)),
            (bos, tokenizer.token_to_id(bos)),
            trim_offsets=False,
            add_prefix_space=False,
        )
        return tokenizer


def read_tokenizer(folder: Path, config: dict[str, Any]) -> TokenizerFile | VocabMerges | None:
    """The tokenizer files of the CLIP folder `folder`, whose `tokenizer_config.json` holds
    `config`; None when it has neither kind, or vocab and merges with settings this module does
    not reproduce (see the module docstring), such as truncating or padding on the left."""
    if any(config.get(side, "right") != "right" for side in ("truncation_side", "padding_side")):
        return None
    if (folder / "tokenizer.json").is_file():
        return TokenizerFile(folder / "tokenizer.json", _file_pad_token(folder, config))
    vocab, merges = folder / "vocab.json", folder / "merges.txt"
    if not (vocab.is_file() and merges.is_file()) or (folder / "added_tokens.json").is_file():
        return None
    special = _special_tokens(folder, config)
    return None if special is None else VocabMerges(vocab, merges, special)


def _special_tokens(
    folder: Path, config: dict[str, Any]
) -> tuple[tuple[str, NamedToken], ...] | None:
    """The named special tokens as transformers' legacy loading reads them: tokenizer_config's,
    each overridden by special_tokens_map's; None for anything else in either file."""
    tokens_map = read_json(folder / "special_tokens_map.json")
    if set(config) - INERT_KEYS - set(SPECIAL_TOKENS) or set(tokens_map) - set(SPECIAL_TOKENS):
        return None
    special = []
    for name, default in SPECIAL_TOKENS.items():
        if name in tokens_map:
            token = _named_token(tokens_map[name], in_config=False)
        else:
            token = _named_token(config.get(name, default), in_config=True)
        if token is None:
            return None
        special.append((name, token))
    return tuple(special)


def _named_token(value: Any, in_config: bool) -> NamedToken | None:
    """A named token as transformers makes it of a value of tokenizer_config.json
    (`in_config`) or special_tokens_map.json: a special AddedToken, whose options left out
    take AddedToken's defaults for a special token (`normalized` too, whatever `special` the
    file says); None for what transformers would reject (tokenizer_config's AddedTokens are
    marked `__type`, special_tokens_map's are not)."""
    if isinstance(value, str):
        return NamedToken(value)
    if not isinstance(value, dict):
        return None
    options = dict(value)
    if in_config and options.pop("__type", None) != "AddedToken":
        return None
    if set(options) - TOKEN_OPTIONS or not isinstance(options.get("content"), str):
        return None
    return NamedToken(
        content=options["content"],
        single_word=bool(options.get("single_word", False)),
        lstrip=bool(options.get("lstrip", False)),
        rstrip=bool(options.get("rstrip", False)),
        normalized=bool(options.get("normalized", False)),
    )


def _file_pad_token(folder: Path, config: dict[str, Any]) -> str:
    pad = config.get("pad_token") or read_json(folder / "special_tokens_map.json").get("pad_token")
    if isinstance(pad, dict):  # a serialised AddedToken
        pad = pad.get("content")
    return pad or SPECIAL_TOKENS["pad_token"]


def read_json(path: Path) -> dict[str, Any]:
    """A model folder's JSON file, {} when the folder has none."""
    return json.loads(path.read_text()) if path.is_file() else {}
