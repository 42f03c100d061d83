"""CLIP image/text encoder on sentence-transformers, with a fast CPU path.

The fast path: images are decoded in a thread pool straight to the model's input size (JPEG
draft mode), and inference runs under bf16 autocast where the CPU supports it natively. Texts
can run through an int8 copy of the text tower on CPUs where fp32 is all there is (see
`quantized.py`). Outputs are float32, L2-normalised numpy arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np
import torch
from PIL import Image

from picsift.errors import ConfigError
from picsift.models.decode import Decoded, Source, bound_aspect, decode_many
from picsift.models.quantized import Int8TextEncoder, build_int8_text
from picsift.models.registry import load_once, local_snapshot, resolve
from picsift.models.runtime import Runtime, choose_runtime, configure_threads

T = TypeVar("T")


def _load_sentence_transformer(path: str, device: str) -> Any:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(local_snapshot(path, "clip"), device=device)
    model.eval()
    return model


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


@dataclass
class EmbedBatch(Generic[T]):
    """Vectors for the items that decoded (with their decoded images), and `(item, reason)`
    for those that did not."""

    decoded: list[Decoded[T]] = field(default_factory=list)
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    failed: list[tuple[T, str]] = field(default_factory=list)

    @property
    def items(self) -> list[T]:
        """The embedded items, in the order of `vectors`."""
        return [d.item for d in self.decoded]


class ClipEncoder:
    """Embeds images and texts into one CLIP space. Models load on first use."""

    def __init__(
        self,
        model: str,
        text_model: str | None = None,
        runtime: Runtime | None = None,
        batch_size: int = 32,
        decode_workers: int = 4,
        text_quantization: str = "none",
    ):
        """`text_quantization`: `none` (texts run like images), `int8` (an int8 text tower; a
        ConfigError when it cannot be had or disagrees with fp32) or `auto` (int8 on a CPU
        without native bf16 when it agrees with fp32, else none)."""
        self.name = model
        self.path, self.model_id = resolve(model, "clip")
        self.text_name = text_model
        self.runtime = runtime or choose_runtime()
        self.batch_size = batch_size
        self.decode_workers = decode_workers
        self.text_quantization = text_quantization
        self._text_choice: tuple[Int8TextEncoder | None, str] | None = None

    @property
    def model(self) -> Any:
        """The image (and default text) SentenceTransformer."""
        configure_threads()
        return load_once(
            ("st", self.path, self.runtime.device),
            lambda: _load_sentence_transformer(self.path, self.runtime.device),
            self.name,
            "PICSIFT_MODEL",
        )

    @property
    def text_encoder(self) -> Any:
        """The text SentenceTransformer: the separate text model when one is set."""
        if not self.text_name:
            return self.model
        path, _ = resolve(self.text_name, "clip")
        text = load_once(
            ("st", path, self.runtime.device),
            lambda: _load_sentence_transformer(path, self.runtime.device),
            self.text_name,
            "PICSIFT_TEXT_MODEL",
        )
        if text.get_embedding_dimension() != self.dim:
            raise ConfigError(
                f"PICSIFT_TEXT_MODEL {self.text_name!r} gives "
                f"{text.get_embedding_dimension()}-d vectors but the image model "
                f"{self.name!r} gives {self.dim}-d; use a text model trained for that image model"
            )
        return text

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        return int(self.model.get_embedding_dimension())

    @property
    def image_size(self) -> int:
        """Side of the square the model sees; images are decoded to about this size."""
        processor = getattr(self.model[0], "processor", None)
        image_processor = getattr(processor, "image_processor", processor)
        crop = getattr(image_processor, "crop_size", None)
        height = crop.get("height") if hasattr(crop, "get") else getattr(crop, "height", None)
        return int(height or 224)

    @property
    def logit_scale(self) -> float:
        """CLIP's learned softmax temperature (100 for OpenAI CLIP)."""
        clip = getattr(self.model[0], "model", None)
        scale = getattr(clip, "logit_scale", None)
        return float(scale.detach().exp()) if scale is not None else 100.0

    def _encode(self, model: Any, inputs: list[Any]) -> np.ndarray:
        with torch.inference_mode(), self.runtime.autocast():
            out = model.encode(
                inputs,
                batch_size=self.batch_size,
                convert_to_tensor=True,
                show_progress_bar=False,
            )
        return normalise(out.float().cpu().numpy())

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Vectors of already-decoded RGB images, shape (n, dim); images of extreme aspect
        are cut to their centre first (see `bound_aspect`), whoever decoded them."""
        if not images:
            return np.zeros((0, self.dim), np.float32)
        return self._encode(self.model, [bound_aspect(image) for image in images])

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of texts (queries, labels) in the image space, shape (n, dim)."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        int8, _ = self._text_path()
        if int8 is not None:
            return normalise(int8.encode(list(texts)).float().numpy())
        return self._encode(self.text_encoder, list(texts))

    @property
    def text_description(self) -> str:
        """How texts are encoded here (int8 and its measured agreement, or the runtime)."""
        return self._text_path()[1]

    def _text_path(self) -> tuple[Int8TextEncoder | None, str]:
        if self._text_choice is None:
            self._text_choice = self._choose_text_path()
        return self._text_choice

    def _choose_text_path(self) -> tuple[Int8TextEncoder | None, str]:
        plain = f"{self.runtime.device} {self.runtime.precision}, as images"
        mode = self.text_quantization
        if mode == "none":
            return None, plain
        cpu_fp32 = self.runtime.device == "cpu" and self.runtime.precision == "fp32"
        if mode == "auto" and not cpu_fp32:
            return None, plain
        if not cpu_fp32:
            raise ConfigError(
                "PICSIFT_TEXT_QUANTIZATION=int8 runs on a CPU in fp32 only; this process runs "
                f"{self.runtime.device} {self.runtime.precision}: set it to auto or none"
            )
        text = self.text_encoder
        int8, why = build_int8_text(text, lambda probes: self._encode(text, probes))
        if int8 is None and mode == "int8":
            raise ConfigError(f"PICSIFT_TEXT_QUANTIZATION=int8: {why}; set it to auto or none")
        return int8, why if int8 is not None else f"{plain} ({why})"

    def embed_sources(
        self,
        items: Iterable[T],
        read: Callable[[T], Source] = lambda x: x,
        min_side: int | None = None,
    ) -> Iterator[EmbedBatch[T]]:
        """Decode and embed items batch by batch; decoding overlaps with inference.

        `read(item)` gives a path or the bytes. Images are decoded to a shorter side of about
        `min_side` (default: the model's input size). Items that fail to decode are reported
        in the batch's `failed` with the reason; the rest of the batch is embedded.
        """
        size = max(min_side or 0, self.image_size)
        batch: EmbedBatch[T] = EmbedBatch()
        for result in decode_many(items, read, size, workers=self.decode_workers):
            if result.image is None:
                batch.failed.append((result.item, result.error or "cannot decode"))
                continue
            batch.decoded.append(result)
            if len(batch.decoded) >= self.batch_size:
                batch.vectors = self.embed_images([d.image for d in batch.decoded])
                yield batch
                batch = EmbedBatch()
        if batch.decoded or batch.failed:
            batch.vectors = self.embed_images([d.image for d in batch.decoded])
            yield batch
