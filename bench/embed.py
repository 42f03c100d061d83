"""Embedding benchmark: the seed notebooks' path vs picsift's encoder, plus captions/s.

Not a test: prints one table. Builds (once, under bench/out/) a random-initialised model with
the real ViT-B/32 CLIP architecture in sentence-transformers format and a random-initialised
model with vit-gpt2-image-captioning's architecture (no model hub needed), writes N varied
JPEGs of social-media size (720x1280), then measures in one run:

  (a) baseline: PIL-open each full-size image, `SentenceTransformer.encode(images,
      batch_size=32)` in fp32 (what BERTopic's MultiModalBackend does);
  (b) picsift: `ClipEncoder.embed_sources(paths)` (thread-pool decoding in JPEG draft mode,
      bf16 autocast where the CPU has native bf16);
  (c) picsift with SigLIP: `SiglipEncoder.embed_sources(paths)` on a random-initialised model
      with SigLIP B/16-224's architecture (what switching to siglip2-base-patch16-224 costs);

and prints images/s, the ratio, and how closely (b) agrees with (a): per-image cosine and the
overlap of each image's 10 nearest neighbours within the set, after subtracting the fp32 batch
mean (random weights make raw embeddings nearly collinear, so raw cosine proves little).

Captions/s (a random model with vit-gpt2-image-captioning's architecture, every caption run to
20 new tokens), through transformers' `generate` and through picsift's own loop, are printed
beside the roof of this CPU, measured in the same run: the encoder's FLOPs at the measured
matrix-multiply peak, plus, per generated token, the bytes the decoder reads (its weights once
per batch, and each image's cross-attention keys and values) at the measured memory bandwidth
(or its FLOPs at the peak, whichever is longer).

    .venv/bin/python bench/embed.py [--images 200] [--skip-captions] [--skip-siglip]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from picsift.models.captioner import Captioner
from picsift.models.encoder import ClipEncoder, normalise
from picsift.models.runtime import Runtime, choose_runtime, configure_threads
from picsift.models.siglip import SiglipEncoder
from picsift.models.toy.varied import varied_images

OUT = Path(__file__).resolve().parent / "out"


def build_random_clip(path: Path) -> Path:
    """ViT-B/32 CLIP (default CLIPConfig) with random weights, as a HF CLIPModel directory."""
    if (path / "config.json").exists():
        return path
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    torch.manual_seed(0)
    model = CLIPModel(CLIPConfig())
    model.save_pretrained(path)
    CLIPProcessor(
        image_processor=CLIPImageProcessor(), tokenizer=_clip_tokenizer()
    ).save_pretrained(path)
    return path


def build_random_siglip(path: Path) -> Path:
    """SigLIP B/16-224 (default SiglipConfig) with random weights, as a HF SiglipModel folder;
    its tokenizer is a word-level stand-in (this bench times images)."""
    if (path / "config.json").exists():
        return path
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GemmaTokenizerFast, SiglipConfig, SiglipImageProcessor, SiglipModel

    torch.manual_seed(0)
    SiglipModel(SiglipConfig()).save_pretrained(path)
    words = ["<pad>", "<eos>", "<bos>", "<unk>", *"abcdefghijklmnopqrstuvwxyz"]
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    specials = {"pad_token": "<pad>", "eos_token": "<eos>", "bos_token": "<bos>"}
    GemmaTokenizerFast(tokenizer_object=tokenizer, unk_token="<unk>", **specials).save_pretrained(
        path
    )
    SiglipImageProcessor().save_pretrained(path)
    return path


def _clip_tokenizer():
    from transformers import CLIPTokenizer

    chars = "abcdefghijklmnopqrstuvwxyz"
    vocab = {"<|startoftext|>": 49406, "<|endoftext|>": 49407}
    for i, c in enumerate(chars):
        vocab[c] = i
        vocab[c + "</w>"] = len(chars) + i
    return CLIPTokenizer(vocab=vocab, merges=[])


def build_random_captioner(path: Path) -> Path:
    """ViT-base encoder + GPT-2 (124M) decoder with random weights: vit-gpt2's architecture."""
    if (path / "config.json").exists():
        return path
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        GPT2Config,
        PreTrainedTokenizerFast,
        VisionEncoderDecoderConfig,
        VisionEncoderDecoderModel,
        ViTConfig,
        ViTImageProcessor,
    )

    torch.manual_seed(0)
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(
        ViTConfig(), GPT2Config(add_cross_attention=True, is_decoder=True)
    )
    config.decoder_start_token_id = config.pad_token_id = config.eos_token_id = 50256
    model = VisionEncoderDecoderModel(config)
    model.generation_config.decoder_start_token_id = 50256
    # No end-of-text is ever forced: every caption runs to max_new_tokens (a conservative time).
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 50256
    model.save_pretrained(path)
    ViTImageProcessor().save_pretrained(path)
    vocab = {f"t{i}": i for i in range(50256)} | {"<|endoftext|>": 50256}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<|endoftext|>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>").save_pretrained(path)
    return path


def write_images(folder: Path, n: int, size=(720, 1280)) -> list[Path]:
    """n varied JPEGs of social-media size (gradients, shapes, blur, noise)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = sorted(folder.glob("*.jpg"))
    if len(paths) >= n:
        return paths[:n]
    paths = []
    for i, img in enumerate(varied_images(n, size=size)):
        paths.append(folder / f"img{i:04d}.jpg")
        img.save(paths[-1], quality=85)
    return paths


def baseline(model, paths: list[Path], batch: int = 32) -> np.ndarray:
    """The seed notebooks' path: full-size PIL images into SentenceTransformer.encode, fp32."""
    out = []
    for start in range(0, len(paths), batch):
        images = [Image.open(p).convert("RGB") for p in paths[start : start + batch]]
        out.append(model.encode(images, batch_size=batch, show_progress_bar=False))
    return normalise(np.concatenate(out))


def agreement(ref: np.ndarray, other: np.ndarray, k: int = 10) -> tuple[float, float, float]:
    """(min cosine, median cosine, mean k-NN overlap) after subtracting ref's batch mean."""
    mean = ref.mean(0, keepdims=True)
    a, b = normalise(ref - mean), normalise(other - mean)
    cos = (a * b).sum(1)

    def knn(x: np.ndarray) -> np.ndarray:
        sim = x @ x.T
        np.fill_diagonal(sim, -np.inf)
        return np.argsort(-sim, axis=1)[:, :k]

    na, nb = knn(a), knn(b)
    overlap = statistics.fmean(len(set(x) & set(y)) / k for x, y in zip(na, nb, strict=True))
    return float(cos.min()), float(np.median(cos)), overlap


def _median_s(fn, repeats: int = 5) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def matmul_peak(precision: str, n: int = 2048) -> float:
    """FLOP/s of a square matrix multiply in `precision` (this CPU's practical peak)."""
    import torch

    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    return 2 * n**3 / _median_s(lambda: a @ b)


def read_bandwidth(megabytes: int = 512) -> float:
    """Bytes/s read from memory (summing a tensor far larger than the caches)."""
    import torch

    x = torch.ones(megabytes * 2**20 // 4)
    return x.numel() * 4 / _median_s(lambda: x.sum())


def encoder_flops(config) -> float:
    """FLOPs of one image through a ViT encoder (patch embedding, attention, MLP)."""
    d, m, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    patches = (config.image_size // config.patch_size) ** 2
    tokens = patches + 1
    per_layer = 8 * tokens * d * d + 4 * tokens * d * m + 4 * tokens * tokens * d
    return layers * per_layer + 2 * patches * config.patch_size**2 * 3 * d


def caption_roof(model, batch: int, new_tokens: int, peak: float, bandwidth: float) -> float:
    """Captions/s this CPU allows: the encoder's FLOPs at `peak`, then per generated token
    the bytes the decoder must read at `bandwidth` (or its FLOPs at the peak, if longer):
    its weights once for the batch, and each image's cross-attention keys and values (one
    key and one value per encoder token, per layer)."""
    params = sum(p.numel() for p in model.decoder.parameters())
    size = next(model.decoder.parameters()).element_size()
    enc, dec = model.config.encoder, model.config.decoder
    tokens = (enc.image_size // enc.patch_size) ** 2 + 1
    cross = dec.n_layer * 2 * tokens * dec.n_embd * size
    step = max((params * size + batch * cross) / bandwidth, 2 * params * batch / peak)
    seconds = batch * encoder_flops(enc) / peak + new_tokens * step
    return batch / seconds


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--captions", type=int, default=64)
    parser.add_argument("--skip-captions", action="store_true")
    parser.add_argument("--skip-siglip", action="store_true")
    args = parser.parse_args()
    cores = configure_threads()
    runtime = choose_runtime()
    clip_dir = build_random_clip(OUT / "clip-vit-b-32-random")
    paths = write_images(OUT / "jpegs-720x1280", args.images)

    fast = ClipEncoder(str(clip_dir), runtime=runtime)
    fp32 = ClipEncoder(str(clip_dir), runtime=Runtime("cpu", "fp32", "baseline"))
    model = fast.model  # loaded once, shared: only the path around it differs
    baseline(model, paths[:8])  # warm-up both paths
    list(fast.embed_sources(paths[:8]))

    ref, t_base = timed(lambda: baseline(model, paths))
    batches, t_fast = timed(lambda: list(fast.embed_sources(paths)))
    ours = np.concatenate([b.vectors for b in batches])
    # Precision alone: the same decoded pixels through fp32 and through the chosen precision.
    small = [b for batch in batches for b in batch.items]
    fp32_vecs = np.concatenate([b.vectors for b in fp32.embed_sources(small)])
    siglip_rate = None
    if not args.skip_siglip:
        siglip = SiglipEncoder(str(build_random_siglip(OUT / "siglip-b16-224-random")), runtime)
        list(siglip.embed_sources(paths[:8]))  # warm-up
        embedded, t_siglip = timed(lambda: sum(len(b.vectors) for b in siglip.embed_sources(paths)))
        siglip_rate = embedded / t_siglip

    print(f"CPU threads: {cores}; runtime chosen: {runtime.precision} ({runtime.reason})")
    print("| path | images | images/s | vs baseline |")
    print("|---|---|---|---|")
    print(
        f"| (a) SentenceTransformer.encode, full-size PIL, fp32 | {len(paths)} | "
        f"{len(paths) / t_base:.1f} | 1.00 |"
    )
    print(
        f"| (b) picsift ClipEncoder from paths, {runtime.precision} | {len(ours)} | "
        f"{len(ours) / t_fast:.1f} | {t_base / t_fast:.2f} |"
    )
    if siglip_rate is not None:
        print(
            f"| (c) picsift SiglipEncoder (SigLIP B/16-224), {runtime.precision} | {embedded} | "
            f"{siglip_rate:.1f} | {siglip_rate * t_base / len(paths):.2f} |"
        )
        ratio = siglip_rate * t_fast / len(ours)
        print(f"\nSigLIP B/16-224 vs ViT-B/32, both picsift: {ratio:.2f}x")
    print()
    print("| agreement (batch mean of fp32 removed) | min cosine | median cosine | 10-NN overlap |")
    print("|---|---|---|---|")
    for name, other, ref_vecs in (
        ("(b) vs (a), end to end", ours, ref),
        (f"{runtime.precision} vs fp32, same pixels", ours, fp32_vecs),
    ):
        lo, med, knn = agreement(ref_vecs, other)
        print(f"| {name} | {lo:.4f} | {med:.4f} | {knn:.1%} |")

    if not args.skip_captions:
        cap_dir = build_random_captioner(OUT / "vit-gpt2-random")
        images = [Image.open(p).convert("RGB").resize((224, 224)) for p in paths[: args.captions]]
        bandwidth = read_bandwidth()
        print()
        print(f"memory read bandwidth: {bandwidth / 1e9:.1f} GB/s")
        print(
            "| captioner (vit-gpt2 architecture, random weights, 20 new tokens) | batch | "
            "captions/s | matmul peak GFLOP/s | roof captions/s | of roof |"
        )
        print("|---|---|---|---|---|---|")
        for rt in (Runtime("cpu", "fp32", "fp32"), runtime):
            peak = matmul_peak(rt.precision)
            for own_loop, path in ((False, "transformers generate"), (True, "picsift loop")):
                cap = Captioner(str(cap_dir), runtime=rt, own_loop=own_loop)
                cap.caption_images(images[:2])
                _, t = timed(lambda cap=cap: cap.caption_images(images))
                roof = caption_roof(cap._parts()[0], cap.batch_size, 20, peak, bandwidth)
                rate = len(images) / t
                print(
                    f"| {rt.precision}, {path} | {cap.batch_size} | {rate:.2f} | "
                    f"{peak / 1e9:,.0f} | {roof:.2f} | {rate / roof:.0%} |"
                )


if __name__ == "__main__":
    main()
