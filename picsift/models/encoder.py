"""CLIP image/text encoder on sentence-transformers, with a fast CPU path.

The fast path: images are decoded in a thread pool straight to the model's input size (JPEG
draft mode), and inference runs under bf16 autocast where the CPU supports it natively. Texts
go through the model's text side alone where its folder allows (`clip_text`: no
sentence-transformers, no image tower; a one-shot `picsift search` on the toy model went from
9.8 s to 3.3 s on the development machine, torch's import alone being 1.9 s), and can run
through an int8 copy of the text tower on CPUs where fp32 is all there is (see
`quantized.py`). Outputs are float32, L2-normalised numpy arrays.

Importing this imports no torch: models, and torch with them, load on first use.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np

from picsift.errors import ConfigError
from picsift.models.clip_text import ClipText, TextSpec, read_spec
from picsift.models.decode import Decoded, Source, bound_aspect, decode_many
from picsift.models.registry import (
    load_once,
    loaded,
    local_snapshot,
    quiet_transformers,
    resolve,
)
from picsift.models.runtime import Runtime, configure_threads, deferred_runtime

if TYPE_CHECKING:
    from PIL import Image
    from sentence_transformers import SentenceTransformer

    from picsift.models.quantized import Int8TextEncoder
    from picsift.models.text_tower import TextTower

T = TypeVar("T")
_NOTHING: Any = object()  # what `next` gives for an empty iterable (None may be an item)


def _load_sentence_transformer(path: str, device: str) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    quiet_transformers()
    model = SentenceTransformer(local_snapshot(path, "clip"), device=device)
    model.eval()
    return model


def _text_spec(path: str) -> TextSpec | None:
    """The CLIP text side `path` names, when its folder is on this machine and `clip_text` can
    read it; None sends texts through sentence-transformers."""
    try:
        folder = local_snapshot(path, "clip")
    except OSError:  # not cached, hub offline: the SentenceTransformer load names the fixes
        return None
    return read_spec(folder)


def _share_tower(model: SentenceTransformer, tower: TextTower) -> None:
    """Point the text parameters of `model`'s CLIP at `tower`'s tensors, freeing its own copy,
    when every one of them has the same name, shape, dtype, device and values; else leave it."""
    import torch

    clip = getattr(model[0], "model", None)
    if clip is None:
        return
    theirs = dict(clip.named_parameters())
    pairs = [(theirs.get(name), param) for name, param in tower.named_parameters()]
    if all(old is not None and old.data_ptr() == new.data_ptr() for old, new in pairs):
        return  # shared already
    with torch.no_grad():
        same = all(
            old is not None
            and old.shape == new.shape
            and old.dtype == new.dtype
            and old.device == new.device
            and torch.equal(old, new)
            for old, new in pairs
        )
        if same:
            for old, new in pairs:
                old.data = new.data


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


class BatchedSources:
    """`embed_sources` for an encoder with `image_size`, `batch_size`, `decode_workers` and
    `embed_images`."""

    image_size: int
    batch_size: int
    decode_workers: int
    embed_images: Callable[[Sequence[Image.Image]], np.ndarray]

    def embed_sources(
        self,
        items: Iterable[T],
        read: Callable[[T], Source] = lambda x: x,
        min_side: int | None = None,
    ) -> Iterator[EmbedBatch[T]]:
        """Decode and embed items batch by batch; decoding overlaps with inference.

        `read(item)` gives a path or the bytes. Images are decoded to a shorter side of about
        `min_side` (default: the model's input size). Items that fail to decode are reported
        in the batch's `failed` with the reason; the rest of the batch is embedded. No items,
        no model loaded (an index run that finds nothing new).
        """
        yield from embed_in_batches(
            items,
            read,
            lambda: max(min_side or 0, self.image_size),
            self.batch_size,
            self.decode_workers,
            self.embed_images,
        )


class ClipEncoder(BatchedSources):
    """Embeds images and texts into one CLIP space. Models load on first use."""

    kind = "CLIP"

    def __init__(
        self,
        model: str,
        text_model: str | None = None,
        runtime: Runtime | Callable[[], Runtime] | None = None,
        batch_size: int = 32,
        decode_workers: int = 4,
        text_quantization: str = "none",
    ):
        """`runtime`: where and how models run, or a function giving that at first use
        (`deferred_runtime`, the default). `text_quantization`: `none` (texts run like images),
        `int8` (an int8 text tower; a ConfigError when it cannot be had or disagrees with fp32)
        or `auto` (int8 on a CPU without native bf16 when it agrees with fp32, else none)."""
        self.name = model
        self.path, self.model_id = resolve(model, "clip")
        self.text_name = text_model
        if runtime is None:
            runtime = deferred_runtime()
        self._runtime = runtime if callable(runtime) else lambda: runtime
        self.batch_size = batch_size
        self.decode_workers = decode_workers
        self.text_quantization = text_quantization
        self._text: ClipText | SentenceTransformer | None = None
        self._text_shared = False
        self._text_choice: tuple[Int8TextEncoder | None, str] | None = None

    @property
    def runtime(self) -> Runtime:
        """Device and precision the models run in."""
        return self._runtime()

    @property
    def model(self) -> SentenceTransformer:
        """The image SentenceTransformer (and the text one where `clip_text` cannot read the
        folder)."""
        model = self._sentence_transformer(self.path, self.name, "PICSIFT_MODEL")
        self._share_text_weights()
        return model

    def _share_text_weights(self) -> None:
        """Hold the text weights once in a process that both embeds images and encodes texts
        (a server): once the image SentenceTransformer and the `ClipText` of the same folder
        are both loaded, whichever came first, the former's text tower uses the latter's
        tensors. Same checkpoint, same values (checked before sharing), so no vector changes."""
        if self._text_shared or self.text_name or self._spec is None:
            return
        device = self.runtime.device
        model = loaded(("st", self.path, device))
        text = loaded(("clip-text", str(self._spec.folder), device))
        if model is not None and text is not None:
            _share_tower(model, text.tower)
            self._text_shared = True  # both loaded once for the process: nothing more to do

    def _sentence_transformer(self, path: str, name: str, env: str) -> SentenceTransformer:
        configure_threads()
        device = self.runtime.device
        return load_once(
            ("st", path, device), lambda: _load_sentence_transformer(path, device), name, env
        )

    @cached_property
    def _spec(self) -> TextSpec | None:
        return _text_spec(self.path)

    @property
    def text_encoder(self) -> ClipText | SentenceTransformer:
        """What encodes texts: the model's text side alone (`ClipText`) where its folder allows,
        else its SentenceTransformer; the separate text model's when one is set."""
        if self._text is None:
            self._text = self._load_text()
        return self._text

    def _load_text(self) -> ClipText | SentenceTransformer:
        if self.text_name:
            name, env = self.text_name, "PICSIFT_TEXT_MODEL"
            path = resolve(name, "clip")[0]
            spec = _text_spec(path)
        else:
            name, env, path, spec = self.name, "PICSIFT_MODEL", self.path, self._spec
        if spec is None:
            text = self._sentence_transformer(path, name, env)
        else:
            configure_threads()
            device = self.runtime.device
            key = ("clip-text", str(spec.folder), device)
            text = load_once(key, lambda: ClipText.load(spec, device), name, env)
            self._share_text_weights()
        if self.text_name and text.get_embedding_dimension() != self.dim:
            raise ConfigError(
                f"PICSIFT_TEXT_MODEL {self.text_name!r} gives "
                f"{text.get_embedding_dimension()}-d vectors but the image model "
                f"{self.name!r} gives {self.dim}-d; use a text model trained for that image model"
            )
        return text

    @property
    def dim(self) -> int:
        """Embedding dimension: from the model's config where it says, so that a run that
        embeds nothing loads no model."""
        if self._spec is not None and self._spec.projection_dim:
            return self._spec.projection_dim
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
    def score_meaning(self) -> str:
        """What a cosine of this model's vectors means, in words (for manifests)."""
        return (
            "cosine similarity of CLIP vectors (CLIP is trained with a softmax that compares "
            "texts with each other: a cosine alone is no probability)"
        )

    def _encode(
        self, model: ClipText | SentenceTransformer, inputs: list[str] | list[Image.Image]
    ) -> np.ndarray:
        import torch

        with torch.inference_mode(), self.runtime.autocast():
            if isinstance(model, ClipText):
                out = model.encode(inputs, self.batch_size)
            else:
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
        from picsift.models.quantized import build_int8_text

        text = self.text_encoder
        int8, why = build_int8_text(text, lambda probes: self._encode(text, probes))
        if int8 is None and mode == "int8":
            raise ConfigError(f"PICSIFT_TEXT_QUANTIZATION=int8: {why}; set it to auto or none")
        return int8, why if int8 is not None else f"{plain} ({why})"


def embed_in_batches(
    items: Iterable[T],
    read: Callable[[T], Source],
    size: Callable[[], int],
    batch_size: int,
    workers: int,
    embed: Callable[[list[Image.Image]], np.ndarray],
) -> Iterator[EmbedBatch[T]]:
    """Decode items to a shorter side of about `size()` in a thread pool (overlapping the
    inference) and embed them `batch_size` at a time with `embed`. Items that fail to decode
    are in their batch's `failed` with the reason; the rest of the batch is embedded. No items,
    no `size()` or `embed` call (so no model is loaded)."""
    pending = iter(items)
    first = next(pending, _NOTHING)
    if first is _NOTHING:
        return
    batch: EmbedBatch[T] = EmbedBatch()
    chained = itertools.chain([first], pending)
    for result in decode_many(chained, read, size(), workers=workers):
        if result.image is None:
            batch.failed.append((result.item, result.error or "cannot decode"))
            continue
        batch.decoded.append(result)
        if len(batch.decoded) >= batch_size:
            batch.vectors = embed([d.image for d in batch.decoded])
            yield batch
            batch = EmbedBatch()
    if batch.decoded or batch.failed:
        batch.vectors = embed([d.image for d in batch.decoded])
        yield batch
