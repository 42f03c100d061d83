"""Greedy captions for ViT + GPT-2 VisionEncoderDecoder models (vit-gpt2-image-captioning's
architecture) on the CPU, without `generate`: the same computation, with less memory traffic.

Where the time went under `generate` (bf16, 2 cores with AMX, batch 32; `bench/embed.py`):
the encoder's exact GELU ran as a separate pass over 19M values per layer (15% of the
encoder), and each decoding step's matrix multiplies, at 32 rows, reached a quarter of the
memory bandwidth, oneDNN laying the weights out again at every call; the key/value cache grew
by concatenation at every step. Here every linear layer's weight is laid out once for
oneDNN (`mkldnn._reorder_linear_weight`, in bf16 and fp32), the activation and the residual
add run inside the matrix multiply (oneDNN post-ops), and the caches are allocated once; a
torch without oneDNN runs the same loop on plain `torch.nn.functional` calls. Tokens are chosen
as greedy `generate` chooses them (argmax, stop at the end token); tests check that the token
ids are `generate`'s own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from transformers import VisionEncoderDecoderModel

_GELU = {"gelu": "none", "gelu_new": "tanh", "gelu_pytorch_tanh": "tanh"}  # -> oneDNN algorithm


def supports(model: VisionEncoderDecoderModel) -> bool:
    """Whether `model` is a ViT + GPT-2 pair this loop computes exactly as transformers does."""
    enc, dec = model.config.encoder, model.config.decoder
    return (
        enc.model_type == "vit"
        and dec.model_type == "gpt2"
        and model.device.type == "cpu"
        and getattr(model, "enc_to_dec_proj", None) is None
        and enc.hidden_act in _GELU
        and dec.activation_function in _GELU
        and dec.scale_attn_weights
        and not dec.scale_attn_by_inverse_layer_idx
        and not dec.reorder_and_upcast_attn
        and _plain_greedy(model.generation_config)
    )


def _plain_greedy(config: Any) -> bool:
    """Whether `generate` would pick each token by argmax alone: no repetition rules, length
    floors, banned, suppressed or forced tokens in the model's generation config."""

    def value(name: str) -> Any:
        return getattr(config, name, None)

    altering = (
        (value("no_repeat_ngram_size") or 0) > 0,
        (value("encoder_no_repeat_ngram_size") or 0) > 0,
        (value("repetition_penalty") or 1.0) != 1.0,
        (value("encoder_repetition_penalty") or 1.0) != 1.0,
        (value("min_length") or 0) > 0,
        (value("min_new_tokens") or 0) > 0,
        bool(value("bad_words_ids")),
        bool(value("suppress_tokens")),
        bool(value("begin_suppress_tokens")),
        bool(value("sequence_bias")),
        value("forced_bos_token_id") is not None,
        value("forced_eos_token_id") is not None,
    )
    return not any(altering)


class _Linear:
    """`y = act(x W^T + b) (+ residual)` with W laid out for oneDNN once (bf16), or plain."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, rows: int, packed: bool):
        import torch

        self.out = weight.shape[0]
        self.bias = bias
        self.packed = packed
        self.weight = (
            torch.ops.mkldnn._reorder_linear_weight(weight.contiguous(), rows)
            if packed
            else weight.contiguous()
        )

    def __call__(
        self, x: torch.Tensor, gelu: str | None = None, residual: torch.Tensor | None = None
    ) -> torch.Tensor:
        import torch
        import torch.nn.functional as F

        flat = x.reshape(-1, x.shape[-1])
        if self.packed:
            mkldnn = torch.ops.mkldnn
            if residual is not None:
                other = residual.reshape(-1, self.out)
                y = mkldnn._linear_pointwise.binary(flat, other, self.weight, self.bias, "add")
            elif gelu is not None:
                y = mkldnn._linear_pointwise(flat, self.weight, self.bias, "gelu", [], gelu)
            else:
                y = mkldnn._linear_pointwise(flat, self.weight, self.bias, "none", [], "")
        else:
            y = F.linear(flat, self.weight, self.bias)
            if gelu is not None:
                y = F.gelu(y, approximate=gelu)
            if residual is not None:
                y = y + residual.reshape(-1, self.out)
        return y.view(*x.shape[:-1], self.out)


def _conv1d(module: Any, rows: int, packed: bool) -> _Linear:
    """GPT-2's Conv1D (weight stored in x out) as a linear layer."""
    return _Linear(module.weight.t(), module.bias, rows, packed)


def _linear(module: Any, rows: int, packed: bool) -> _Linear:
    return _Linear(module.weight, module.bias, rows, packed)


def _norm(module: Any) -> tuple[Any, ...]:
    return (module.normalized_shape, module.weight, module.bias, module.eps)


def _heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """(B, T, H*d) -> (B, H, T, d)."""
    b, t, _ = x.shape
    return x.view(b, t, heads, -1).transpose(1, 2)


def _merge(x: torch.Tensor) -> torch.Tensor:
    """(B, H, T, d) -> (B, T, H*d)."""
    b, h, t, d = x.shape
    return x.transpose(1, 2).reshape(b, t, h * d)


class FastVitGpt2:
    """The encoder and the greedy decoding loop of one model, its weights prepared once for
    batches of about `batch_size` images."""

    def __init__(self, model: VisionEncoderDecoderModel, batch_size: int):
        import torch

        self.model = model
        self.dtype = model.dtype
        packed = _onednn(self.dtype)
        enc, dec = model.encoder, model.decoder
        tokens = (enc.config.image_size // enc.config.patch_size) ** 2 + 1
        self.enc_heads = enc.config.num_attention_heads
        self.enc_gelu = _GELU[enc.config.hidden_act]
        self.enc_layers = [
            {
                "ln1": _norm(layer.layernorm_before),
                "qkv": _Linear(
                    torch.cat(
                        [
                            layer.attention.q_proj.weight,
                            layer.attention.k_proj.weight,
                            layer.attention.v_proj.weight,
                        ]
                    ),
                    torch.cat(
                        [
                            layer.attention.q_proj.bias,
                            layer.attention.k_proj.bias,
                            layer.attention.v_proj.bias,
                        ]
                    ),
                    batch_size * tokens,
                    packed,
                ),
                "o": _linear(layer.attention.o_proj, batch_size * tokens, packed),
                "ln2": _norm(layer.layernorm_after),
                "fc1": _linear(layer.mlp.fc1, batch_size * tokens, packed),
                "fc2": _linear(layer.mlp.fc2, batch_size * tokens, packed),
            }
            for layer in enc.layers
        ]
        self.enc_norm = _norm(enc.layernorm)
        gpt = dec.transformer
        self.heads = dec.config.n_head
        self.gelu = _GELU[dec.config.activation_function]
        self.positions = dec.config.n_positions
        self.layers = [
            {
                "ln1": _norm(block.ln_1),
                "qkv": _conv1d(block.attn.c_attn, batch_size, packed),
                "proj": _conv1d(block.attn.c_proj, batch_size, packed),
                "lnx": _norm(block.ln_cross_attn),
                "q": _conv1d(block.crossattention.q_attn, batch_size, packed),
                "kv": _conv1d(block.crossattention.c_attn, batch_size * tokens, packed),
                "xproj": _conv1d(block.crossattention.c_proj, batch_size, packed),
                "ln2": _norm(block.ln_2),
                "fc": _conv1d(block.mlp.c_fc, batch_size, packed),
                "fcproj": _conv1d(block.mlp.c_proj, batch_size, packed),
            }
            for block in gpt.h
        ]
        self.wte, self.wpe = gpt.wte.weight, gpt.wpe.weight
        self.final_norm = _norm(gpt.ln_f)
        self.head = _Linear(dec.lm_head.weight, None, batch_size, packed)

    def encode(self, pixels: torch.Tensor) -> torch.Tensor:
        """The encoder's last hidden state, (B, tokens, hidden)."""
        import torch.nn.functional as F

        x = self.model.encoder.embeddings(pixels.to(self.dtype))
        for layer in self.enc_layers:
            h = F.layer_norm(x, *layer["ln1"])
            q, k, v = (_heads(t, self.enc_heads) for t in layer["qkv"](h).chunk(3, dim=-1))
            x = layer["o"](_merge(F.scaled_dot_product_attention(q, k, v)), residual=x)
            h = layer["fc1"](F.layer_norm(x, *layer["ln2"]), gelu=self.enc_gelu)
            x = layer["fc2"](h, residual=x)
        return F.layer_norm(x, *self.enc_norm)

    def generate(
        self, pixels: torch.Tensor, max_new_tokens: int, start: int, end: int | None
    ) -> list[list[int]]:
        """Greedy token ids of each image's caption (without the start token; up to and
        including the end token, when one came)."""
        import torch
        import torch.nn.functional as F

        memory = self.encode(pixels)
        batch = memory.shape[0]
        steps = min(max_new_tokens, self.positions - 1)
        cross = [_split_kv(layer["kv"](memory), self.heads) for layer in self.layers]
        head_dim = self.wte.shape[1] // self.heads
        shape = (batch, self.heads, steps, head_dim)
        caches = [(memory.new_empty(shape), memory.new_empty(shape)) for _ in self.layers]
        token = torch.full((batch,), start, dtype=torch.long)
        out = torch.empty((batch, steps), dtype=torch.long)
        done = torch.zeros(batch, dtype=torch.bool)
        for step in range(steps):
            x = (self.wte[token] + self.wpe[step]).unsqueeze(1)
            for layer, (keys, values), (xk, xv) in zip(self.layers, caches, cross, strict=True):
                q, k, v = (
                    _heads(t, self.heads)
                    for t in layer["qkv"](F.layer_norm(x, *layer["ln1"])).chunk(3, dim=-1)
                )
                keys[:, :, step : step + 1] = k
                values[:, :, step : step + 1] = v
                a = F.scaled_dot_product_attention(
                    q, keys[:, :, : step + 1], values[:, :, : step + 1]
                )
                x = layer["proj"](_merge(a), residual=x)
                q = _heads(layer["q"](F.layer_norm(x, *layer["lnx"])), self.heads)
                x = layer["xproj"](_merge(F.scaled_dot_product_attention(q, xk, xv)), residual=x)
                h = layer["fc"](F.layer_norm(x, *layer["ln2"]), gelu=self.gelu)
                x = layer["fcproj"](h, residual=x)
            logits = self.head(F.layer_norm(x[:, 0], *self.final_norm))
            token = logits.max(dim=-1).indices  # argmax (first of ties), 5x faster in bf16
            out[:, step] = token
            if end is not None:
                done |= token == end
                if bool(done.all()):
                    steps = step + 1
                    break
        return [_until(row[:steps].tolist(), end) for row in out]


def _onednn(dtype: torch.dtype) -> bool:
    """Whether this torch runs oneDNN linear layers with laid-out weights in `dtype`."""
    import torch

    return torch.backends.mkldnn.is_available() and (
        dtype == torch.float32 or torch.ops.mkldnn._is_mkldnn_bf16_supported()
    )


def _split_kv(kv: torch.Tensor, heads: int) -> tuple[torch.Tensor, torch.Tensor]:
    k, v = kv.chunk(2, dim=-1)
    return _heads(k, heads).contiguous(), _heads(v, heads).contiguous()


def _until(tokens: list[int], end: int | None) -> list[int]:
    if end is not None and end in tokens:
        return tokens[: tokens.index(end) + 1]
    return tokens
