"""CLIP's text transformer and projection in plain torch: what transformers' `CLIPModel`
computes in `get_text_features`, without importing transformers' model code (on the
development machine that import takes 2.7 s, twice torch's own, for a query that takes
milliseconds).

Modules carry the Hugging Face names (`text_model.encoder.layers.0.self_attn.q_proj`, ...), so
a CLIP checkpoint's text weights load by name, strictly. `picsift.models.clip_text` decides
which folders are read this way; the tests hold the vectors to transformers' and
sentence-transformers' own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn


def quick_gelu(x: torch.Tensor) -> torch.Tensor:
    """OpenAI CLIP's activation (transformers' `quick_gelu`)."""
    return x * torch.sigmoid(1.702 * x)


ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "quick_gelu": quick_gelu,
    "gelu": F.gelu,
}
PREFIXES = ("text_model.", "text_projection.")  # the text tower's keys in a CLIPModel checkpoint
# Modules are built as placeholders on the meta device, without the random init that the
# checkpoint replaces at once (0.4 s for ViT-B/32's text tower). Embeddings come from an empty
# tensor: their init on meta would import torch's compiler (1.2 s).
META = "meta"


def _linear(width: int, out: int, bias: bool = True) -> nn.Linear:
    return nn.Linear(width, out, bias=bias, device=META)


def _embedding(rows: int, width: int) -> nn.Embedding:
    return nn.Embedding.from_pretrained(torch.empty(rows, width, device=META))


class _Attention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q_proj = _linear(width, width)
        self.k_proj = _linear(width, width)
        self.v_proj = _linear(width, width)
        self.out_proj = _linear(width, width)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        q, k, v = (
            proj(x).view(batch, length, self.heads, width // self.heads).transpose(1, 2)
            for proj in (self.q_proj, self.k_proj, self.v_proj)
        )
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.out_proj(out.transpose(1, 2).reshape(batch, length, width))


class _Mlp(nn.Module):
    def __init__(self, width: int, hidden: int, activation: str):
        super().__init__()
        self.fc1 = _linear(width, hidden)
        self.fc2 = _linear(hidden, width)
        self.activation = ACTIVATIONS[activation]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.activation(self.fc1(x)))


class _Layer(nn.Module):
    def __init__(self, width: int, hidden: int, heads: int, eps: float, activation: str):
        super().__init__()
        self.self_attn = _Attention(width, heads)
        self.layer_norm1 = nn.LayerNorm(width, eps=eps, device=META)
        self.mlp = _Mlp(width, hidden, activation)
        self.layer_norm2 = nn.LayerNorm(width, eps=eps, device=META)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.layer_norm1(x), mask)
        return x + self.mlp(self.layer_norm2(x))


class TextTower(nn.Module):
    """Token ids and their attention mask -> unnormalised text embeddings, as
    `CLIPModel.get_text_features(...).pooler_output`. Built empty (on the meta device) for
    `load_text_tower` to fill."""

    def __init__(
        self,
        shape: dict[str, int],
        heads: int,
        eps: float,
        activation: str,
        eos_token_id: int,
    ):
        super().__init__()
        width = shape["width"]
        self.text_model = nn.Module()
        self.text_model.embeddings = nn.ModuleDict(
            {
                "token_embedding": _embedding(shape["vocab"], width),
                "position_embedding": _embedding(shape["positions"], width),
            }
        )
        self.text_model.encoder = nn.Module()
        self.text_model.encoder.layers = nn.ModuleList(
            _Layer(width, shape["hidden"], heads, eps, activation) for _ in range(shape["depth"])
        )
        self.text_model.final_layer_norm = nn.LayerNorm(width, eps=eps, device=META)
        self.text_projection = _linear(width, shape["projection"], bias=False)
        self.eos_token_id = eos_token_id

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        return self.text_projection.out_features

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        text = self.text_model
        length = input_ids.shape[1]
        x = text.embeddings["token_embedding"](input_ids)
        x = x + text.embeddings["position_embedding"].weight[:length]
        causal = torch.ones(length, length, dtype=torch.bool, device=x.device).tril()
        mask = causal & attention_mask.bool()[:, None, None, :]
        for layer in text.encoder.layers:
            x = layer(x, mask)
        x = text.final_layer_norm(x)
        ids = input_ids.to(torch.int)
        # transformers' pooling: configs from before its fix say eos_token_id 2 and pool at the
        # highest id (the end token in OpenAI's vocabulary), the others at the first end token.
        if self.eos_token_id == 2:
            end = ids.argmax(-1)
        else:
            end = (ids == self.eos_token_id).int().argmax(-1)
        return self.text_projection(x[torch.arange(x.shape[0], device=x.device), end])


def load_text_tower(
    path: Path, heads: int, eps: float, activation: str, eos_token_id: int, dtype: str | None
) -> TextTower:
    """The text tower of a CLIPModel checkpoint (`model.safetensors` or `pytorch_model.bin`),
    in `dtype` where one is given (the config's), else as stored.

    Raises:
        ValueError: the checkpoint lacks text-tower weights.
    """
    weights = _text_weights(path)
    if dtype is not None:
        weights = {k: v.to(getattr(torch, dtype)) for k, v in weights.items()}
    try:
        positions, width = weights["text_model.embeddings.position_embedding.weight"].shape
        shape = {
            "width": width,
            "positions": positions,
            "vocab": weights["text_model.embeddings.token_embedding.weight"].shape[0],
            "hidden": weights["text_model.encoder.layers.0.mlp.fc1.weight"].shape[0],
            "depth": 1 + max(int(k.split(".")[3]) for k in weights if ".encoder.layers." in k),
            "projection": weights["text_projection.weight"].shape[0],
        }
    except KeyError as missing:
        raise ValueError(f"{path} has no CLIP text tower (no {missing})") from None
    tower = TextTower(shape, heads, eps, activation, eos_token_id)
    try:
        tower.load_state_dict(weights, strict=True, assign=True)
    except RuntimeError as exc:
        raise ValueError(f"{path}: text tower weights do not fit ({exc})") from None
    return tower.eval()


def _text_weights(path: Path) -> dict[str, torch.Tensor]:
    if path.suffix == ".safetensors":
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            names = f.keys()  # not a dict: the file's handle has no iterator
            weights = {k: f.get_tensor(k) for k in names if k.startswith(PREFIXES)}
    else:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError:  # a checkpoint of torch < 1.6 (not a zip) cannot be mapped
            state = torch.load(path, map_location="cpu", weights_only=True)
        weights = {k: v for k, v in state.items() if k.startswith(PREFIXES)}
    # an old persistent buffer, not a weight (transformers drops it too)
    weights.pop("text_model.embeddings.position_ids", None)
    return weights
