"""SigLIP and SigLIP 2 image-text encoders: transformers' `SiglipModel` checkpoints (a folder
with config.json of model_type "siglip", the weights, preprocessor_config.json and the
tokenizer's files: SigLIP's sentencepiece `spiece.model`, SigLIP 2's Gemma `tokenizer.json`),
from a local folder or the hub. SigLIP 2's fixed-resolution checkpoints (siglip2-base-patch16-224
and the like) are `SiglipModel`s too; its NaFlex ones (`Siglip2Model`) are not supported yet.

Texts are encoded as the checkpoints' authors show it: lowercased (SigLIP 2 was trained on
lowercased text), padded to the text tower's whole length (`max_position_embeddings`: the tower
pools its last position, so "longest" padding would change every vector), and no attention
mask: the original (big_vision) text tower takes none, padding being part of what it was
trained on. transformers 5's tokenizers return a mask, and `model(**processor(...))` would pass
it; with real weights this choice is still to be checked against the authors' scores (none
could be loaded here). The tokenizer's own settings (padding side, special tokens) are as the
checkpoint saved them. Sentence-transformers loads these folders too, but pads to the longest
text and passes the mask: its text vectors are not the model's.

Scores: SigLIP is trained with a sigmoid loss, so an image and a text match with probability
sigmoid(t * cosine + b), t and b learned (`logit_scale`, `logit_bias`), where CLIP's softmax
only compares texts with each other. The store keeps cosines as for CLIP, and cuts and tag edges
are calibrated per store and model (`picsift.relevance`); `score_meaning` says what a cosine
means for the model in use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from picsift.errors import ConfigError
from picsift.models.decode import bound_aspect
from picsift.models.encoder import BatchedSources, normalise
from picsift.models.registry import load_once, local_snapshot, quiet_transformers, resolve
from picsift.models.runtime import Runtime, configure_threads, deferred_runtime

if TYPE_CHECKING:
    from PIL import Image


def _load(path: str, device: str) -> tuple[Any, Any]:
    """The model (eval mode, on `device`) and its processor (tokenizer + image processor)."""
    from transformers import AutoProcessor, SiglipModel

    quiet_transformers()
    folder = local_snapshot(path, "siglip")
    model = SiglipModel.from_pretrained(folder).to(device).eval()
    return model, AutoProcessor.from_pretrained(folder)


class SiglipEncoder(BatchedSources):
    """Embeds images and texts into one SigLIP space. The model loads on first use."""

    kind = "SigLIP"

    def __init__(
        self,
        model: str,
        runtime: Runtime | Callable[[], Runtime] | None = None,
        batch_size: int = 32,
        decode_workers: int = 4,
    ):
        self.name = model
        self.path, self.model_id = resolve(model, "siglip")
        if runtime is None:
            runtime = deferred_runtime()
        self._runtime = runtime if callable(runtime) else lambda: runtime
        self.batch_size = batch_size
        self.decode_workers = decode_workers

    @property
    def runtime(self) -> Runtime:
        """Device and precision the model runs in."""
        return self._runtime()

    @cached_property
    def config(self) -> Any:
        """The checkpoint's config (read without loading the weights).

        Raises:
            ConfigError: the folder holds another kind of model, or its two towers give
                vectors of different sizes.
        """
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(local_snapshot(self.path, "siglip"))
        if config.model_type != "siglip":
            raise ConfigError(
                f"PICSIFT_MODEL {self.name!r} is a {config.model_type!r} model, not SigLIP"
            )
        text = config.text_config
        text = getattr(text, "projection_size", None) or text.hidden_size
        if text != config.vision_config.hidden_size:
            raise ConfigError(
                f"PICSIFT_MODEL {self.name!r}: its text tower gives {text}-d vectors, its image "
                f"tower {config.vision_config.hidden_size}-d"
            )
        return config

    @property
    def dim(self) -> int:
        """Embedding dimension (from the config: a run that embeds nothing loads no model)."""
        return int(self.config.vision_config.hidden_size)

    @property
    def image_size(self) -> int:
        """Side of the square the model sees; images are decoded to about this size."""
        return int(self.config.vision_config.image_size)

    @property
    def text_length(self) -> int:
        """Tokens every text is padded (or cut) to: the text tower's whole length."""
        return int(self.config.text_config.max_position_embeddings)

    def _parts(self) -> tuple[Any, Any]:
        configure_threads()
        device = self.runtime.device
        return load_once(
            ("siglip", self.path, device),
            lambda: _load(self.path, device),
            self.name,
            "PICSIFT_MODEL",
        )

    @property
    def score_meaning(self) -> str:
        """What a cosine of this model's vectors means, in words (for manifests)."""
        model, _ = self._parts()
        scale = float(model.logit_scale.detach().exp())
        bias = float(model.logit_bias.detach())
        return (
            f"cosine similarity of SigLIP vectors; the model reads cosine c as a match "
            f"probability of sigmoid({scale:.2f} * c + {bias:.2f})"
        )

    @property
    def text_description(self) -> str:
        """How texts are encoded here (for the manifest)."""
        runtime = self.runtime
        return (
            f"{runtime.device} {runtime.precision}, as images; lowercased, padded to "
            f"{self.text_length} tokens"
        )

    def _features(self, method: str, inputs: dict[str, Any]) -> np.ndarray:
        import torch

        model, _ = self._parts()
        with torch.inference_mode(), self.runtime.autocast():
            out = getattr(model, method)(**{k: v.to(model.device) for k, v in inputs.items()})
        vectors = getattr(out, "pooler_output", out)
        return normalise(vectors.float().cpu().numpy())

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Vectors of decoded RGB images, shape (n, dim); images of extreme aspect are cut to
        their centre first (`bound_aspect`), then the processor resizes them to its square."""
        if not images:
            return np.zeros((0, self.dim), np.float32)
        _, processor = self._parts()
        out = []
        for start in range(0, len(images), self.batch_size):
            batch = [bound_aspect(image) for image in images[start : start + self.batch_size]]
            pixels = processor.image_processor(images=batch, return_tensors="pt")["pixel_values"]
            out.append(self._features("get_image_features", {"pixel_values": pixels}))
        return np.concatenate(out)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of texts (queries, labels) in the image space, shape (n, dim)."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        _, processor = self._parts()
        out = []
        for start in range(0, len(texts), self.batch_size):
            batch = [text.lower() for text in texts[start : start + self.batch_size]]
            tokens = processor.tokenizer(
                batch,
                padding="max_length",
                max_length=self.text_length,
                truncation=True,
                return_tensors="pt",
            )
            out.append(self._features("get_text_features", {"input_ids": tokens["input_ids"]}))
        return np.concatenate(out)
