"""Image captions with a VisionEncoderDecoder model (default vit-gpt2-image-captioning).

transformers 5 removed the `image-to-text` pipeline, so this calls `generate` with the model's
own image processor and tokenizer: batched, greedy, KV cache, short maximum length. On the CPU,
ViT + GPT-2 models (vit-gpt2's architecture) run a loop of picsift's own instead, which
computes the same with less memory traffic (`fast_caption`, 1.28x the captions/s in bf16).

In bf16 the weights themselves are loaded in bf16, not cast under autocast: the decoder reads
all its weights once per generated token, and autocast reads them in fp32 and casts them again
at every step (measured on vit-gpt2's architecture, 2 cores with AMX, batch 16: 117 ms per
step under autocast, 58 ms with bf16 weights; `bench/embed.py`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, TypeVar

from PIL import Image

from picsift.models.decode import Source, decode_many
from picsift.models.registry import load_once, local_snapshot, quiet_transformers, resolve
from picsift.models.runtime import Runtime, configure_threads, deferred_runtime

if TYPE_CHECKING:
    from transformers import BaseImageProcessor, PreTrainedTokenizerBase, VisionEncoderDecoderModel

    from picsift.models.fast_caption import FastVitGpt2

    # The loaded captioner: the model, its image processor and its tokenizer.
    Parts = tuple[VisionEncoderDecoderModel, BaseImageProcessor, PreTrainedTokenizerBase]

T = TypeVar("T")

CAPTION_FAILED = "captioning failed"  # the start of the reason when the model failed


def _load(path: str, runtime: Runtime) -> Parts:
    import torch
    from transformers import AutoImageProcessor, AutoTokenizer, VisionEncoderDecoderModel

    quiet_transformers()
    path = local_snapshot(path, "captioner")
    # bf16 weights in bf16 (same range as fp32); fp16 keeps fp32 weights under autocast.
    dtype = torch.bfloat16 if runtime.precision == "bf16" else torch.float32
    model = VisionEncoderDecoderModel.from_pretrained(path, dtype=dtype)
    model = model.to(runtime.device).eval()
    processor = AutoImageProcessor.from_pretrained(path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    return model, processor, tokenizer


@contextlib.contextmanager
def _quiet_generate() -> Iterator[None]:
    """Silence transformers' padding warning: every caption starts from one start token, so
    there is no padding to mask, yet it warns on each batch when pad and start tokens are equal
    (as in vit-gpt2)."""
    from transformers.utils import logging as hf_logging

    previous = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(previous)


def _start_end(model: VisionEncoderDecoderModel) -> tuple[int, int | None] | None:
    """The decoder's start token and its one end token (None: none, every caption runs to the
    limit), as `generate` takes them; None when it has several end tokens."""
    config = model.generation_config
    start = config.decoder_start_token_id
    if start is None:
        start = model.config.decoder_start_token_id
    end = config.eos_token_id
    if isinstance(end, list):
        if len(end) != 1:
            return None
        end = end[0]
    return (int(start), end) if isinstance(start, int) else None


def _new_token_limit(model: VisionEncoderDecoderModel, wanted: int) -> int:
    """`wanted`, capped so the start token plus the caption fit the decoder's position table
    (a caption with no end token would otherwise run past it and fail the whole batch)."""
    positions = getattr(model.config.decoder, "max_position_embeddings", None)
    return min(wanted, positions - 1) if positions else wanted


class Captioner:
    """Captions images; the model (and torch) loads on first use."""

    def __init__(
        self,
        model: str,
        runtime: Runtime | Callable[[], Runtime] | None = None,
        batch_size: int = 32,
        max_new_tokens: int = 20,
        decode_workers: int = 4,
        own_loop: bool = True,
    ):
        """`runtime`: where and how the model runs, or a function giving that at first use
        (`deferred_runtime`, the default). `own_loop=False`: always transformers' `generate`
        (the benchmark's baseline)."""
        self.name = model
        self.path, self.model_id = resolve(model, "captioner")
        if runtime is None:
            runtime = deferred_runtime()
        self._runtime = runtime if callable(runtime) else lambda: runtime
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.decode_workers = decode_workers
        self.own_loop = own_loop
        self._fast: FastVitGpt2 | None = None

    @property
    def runtime(self) -> Runtime:
        """Device and precision the model runs in."""
        return self._runtime()

    def _parts(self) -> Parts:
        configure_threads()
        runtime = self.runtime
        return load_once(
            ("captioner", self.path, runtime.device, runtime.precision),
            lambda: _load(self.path, runtime),
            self.name,
            "PICSIFT_CAPTION_MODEL",
        )

    @property
    def image_size(self) -> int:
        """Input side of the vision encoder."""
        _, processor, _ = self._parts()
        size = processor.size
        side = size.get("height") or size.get("shortest_edge") if hasattr(size, "get") else None
        return int(side or 224)

    def caption_images(self, images: Sequence[Image.Image]) -> list[str]:
        """One caption per RGB image."""
        import torch

        model, processor, tokenizer = self._parts()
        max_new_tokens = _new_token_limit(model, self.max_new_tokens)
        fast = self._fast_path(model)
        captions: list[str] = []
        for start in range(0, len(images), self.batch_size):
            chunk = list(images[start : start + self.batch_size])
            pixels = processor(images=chunk, return_tensors="pt").pixel_values
            pixels = pixels.to(self.runtime.device, model.dtype)
            fp32 = model.dtype == torch.float32  # else bf16 weights: nothing to cast
            cast = self.runtime.autocast() if fp32 and not fast else contextlib.nullcontext()
            with torch.inference_mode(), cast, _quiet_generate():
                if fast:
                    ids = fast.generate(pixels, max_new_tokens, *_start_end(model))
                else:
                    ids = model.generate(
                        pixel_values=pixels,
                        max_new_tokens=max_new_tokens,
                        num_beams=1,
                        do_sample=False,
                        use_cache=True,
                    )
            captions.extend(
                t.strip() for t in tokenizer.batch_decode(ids, skip_special_tokens=True)
            )
        return captions

    def _fast_path(self, model: VisionEncoderDecoderModel) -> FastVitGpt2 | None:
        """The CPU loop of `fast_caption` for this model (made once), where it computes what
        `generate` computes: a ViT + GPT-2 model in bf16 or fp32 (fp16 runs under autocast,
        which the loop does not)."""
        from picsift.models.fast_caption import FastVitGpt2, supports

        if self._fast is None or self._fast.model is not model:
            usable = (
                self.own_loop
                and self.runtime.precision in ("bf16", "fp32")
                and supports(model)
                and _start_end(model) is not None
            )
            self._fast = FastVitGpt2(model, self.batch_size) if usable else None
        return self._fast

    def caption_sources(
        self, items: Iterable[T], read: Callable[[T], Source] = lambda x: x
    ) -> Iterator[tuple[T, str | None, str | None]]:
        """`(item, caption, None)` per captioned item, `(item, None, reason)` for the rest:
        the reason says why the image could not be decoded, or starts with `CAPTION_FAILED`
        when the model failed on it. The model loads before the first item: a model that
        cannot load raises."""
        pending: list[tuple[T, Image.Image]] = []
        for result in decode_many(items, read, self.image_size, workers=self.decode_workers):
            if result.image is None:
                yield result.item, None, result.error
                continue
            pending.append((result.item, result.image))
            if len(pending) >= self.batch_size:
                yield from self._flush(pending)
                pending = []
        yield from self._flush(pending)

    def _flush(
        self, pending: list[tuple[T, Image.Image]]
    ) -> Iterator[tuple[T, str | None, str | None]]:
        """Caption a batch; when the model fails on it (one odd image, memory running out),
        each image is tried alone, so only the images that fail alone go without a caption."""
        if not pending:
            return
        try:
            captions = self.caption_images([image for _, image in pending])
            results = [
                (item, text, None) for (item, _), text in zip(pending, captions, strict=True)
            ]
        except Exception:  # any model error: the batch is retried image by image
            results = [self._alone(item, image) for item, image in pending]
        yield from results

    def _alone(self, item: T, image: Image.Image) -> tuple[T, str | None, str | None]:
        try:
            (caption,) = self.caption_images([image])
        except Exception as exc:  # whatever the model raised is this image's reason
            return item, None, f"{CAPTION_FAILED}: {type(exc).__name__}: {exc}"
        return item, caption, None
