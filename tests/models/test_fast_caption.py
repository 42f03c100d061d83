"""picsift's own greedy loop for ViT + GPT-2 captioners: the token ids `generate` gives, on
random-initialised models of that architecture, and the captioner takes it only where it
computes what `generate` computes."""

from __future__ import annotations

import pytest
import torch
from transformers import (
    GPT2Config,
    VisionEncoderDecoderConfig,
    VisionEncoderDecoderModel,
    ViTConfig,
)

from picsift.models.captioner import Captioner
from picsift.models.fast_caption import FastVitGpt2, supports
from picsift.models.runtime import Runtime

END = 37


def _model(decoder_width: int = 64, positions: int = 12) -> VisionEncoderDecoderModel:
    torch.manual_seed(3)
    vit = ViTConfig(
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        image_size=32,
        patch_size=8,
    )
    gpt = GPT2Config(
        n_embd=decoder_width,
        n_layer=2,
        n_head=4,
        vocab_size=40,
        n_positions=positions,
        add_cross_attention=True,
        is_decoder=True,
    )
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(vit, gpt)
    config.decoder_start_token_id = config.pad_token_id = 0
    model = VisionEncoderDecoderModel(config).eval()
    with torch.no_grad():  # weights far from the init's, so tokens depend on the image
        for weight in model.parameters():
            if weight.dim() > 1:
                weight.normal_(0.0, 0.3)
    model.generation_config.decoder_start_token_id = model.generation_config.pad_token_id = 0
    model.generation_config.eos_token_id = END
    return model


def _generate(model, pixels, new_tokens):
    ids = model.generate(pixel_values=pixels, max_new_tokens=new_tokens, do_sample=False)
    rows = []
    for row in ids.tolist():
        row = row[1:]  # the start token
        rows.append(row[: row.index(END) + 1] if END in row else row)
    return rows


@pytest.mark.parametrize("onednn", [True, False])
@pytest.mark.parametrize("new_tokens", [5, 30])  # 30: past the decoder's 12 positions
def test_the_loop_gives_generates_token_ids(new_tokens, onednn, monkeypatch):
    from picsift.models import fast_caption

    if not onednn:  # a torch built without oneDNN: plain torch calls
        monkeypatch.setattr(fast_caption, "_onednn", lambda dtype: False)
    model = _model()
    pixels = torch.randn(12, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    fast = FastVitGpt2(model, batch_size=12)
    with torch.inference_mode():
        ours = fast.generate(pixels, new_tokens, 0, END)  # caps itself at the positions
        theirs = _generate(model, pixels, min(new_tokens, 11))
    assert ours == theirs
    assert any(row[-1] == END for row in ours)  # some captions ended early, as generate's did
    assert any(len(row) == min(new_tokens, 11) for row in ours)


def test_the_captioner_takes_the_loop_only_where_it_is_generates_own():
    fp32 = Captioner("toy", runtime=Runtime("cpu", "fp32", "test"))
    assert isinstance(fp32._fast_path(fp32._parts()[0]), FastVitGpt2)
    fp16 = Captioner("toy", runtime=Runtime("cpu", "fp16", "test"))  # autocast: generate's
    assert fp16._fast_path(fp16._parts()[0]) is None
    assert not supports(_model(decoder_width=32))  # a projection between the two: generate's
    banned = _model()
    banned.generation_config.no_repeat_ngram_size = 2  # generate would skip repeats: its own
    assert supports(_model()) and not supports(banned)
