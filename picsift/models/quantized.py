"""An int8 CLIP text tower for CPUs, kept only where it agrees with fp32 on the served weights.

A query is a handful of tokens, so encoding it on a CPU reads every weight of the text
tower's linear layers once for very little arithmetic: it is bound by memory bandwidth, not by
compute. Dynamic int8 quantization (int8 weights, activations quantized per call) reads a
quarter of the bytes: on the 2-core development machine a ViT-B/32 query went from about 60 ms
to about 28 ms, and to about 18 ms run as a TorchScript trace.

Whether int8 is close enough depends on the weights (trained transformers can have outlier
activations that int8 handles badly), so `build_int8_text` measures it on the model actually
loaded: it encodes `PROBES` both ways and refuses the int8 tower when a probe's vector moves
too far. Distance is measured after removing the probes' mean vector (text embeddings share a
large common direction that would make any two versions look alike), so `MIN_COSINE` bounds
the error relative to how far apart different queries are. It is a guard against a broken
tower, not a proof of equal rankings: on the trained toy model int8 queries keep 98% of fp32's
top 10 and 99% of its top 1.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from picsift.models.clip_text import ClipText

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MIN_COSINE = 0.97
PROBES = (
    "a photo of a dog",
    "red circle",
    "farmers protest with tractors on a motorway",
    "police at a demonstration at night",
    "a screenshot of a tweet",
    "meme with white text on a black background",
    "a crowd waving flags in a city square",
    "close-up of a smiling woman",
    "a plate of food on a wooden table",
    "an aerial view of a flooded village",
    "a hand holding a smartphone",
    "a cartoon drawing of a cat",
    "graffiti on a brick wall",
    "a man speaking into a microphone on stage",
    "snow-covered mountains under a blue sky",
    "a chart showing rising prices",
    "a burning car in the street",
    "children playing football on a beach",
    "a religious ceremony in a church",
    "a poster with the text vote now",
    "soldiers standing next to a tank",
    "a selfie in front of a mirror",
    "an empty supermarket shelf",
    "a map with red and blue regions",
    "a newspaper front page",
    "fireworks over a river",
    "a green triangle",
    "two people hugging at an airport",
    "a dashboard camera view of a highway",
    "hands typing on a laptop keyboard",
    "a black and white portrait photograph",
    "a crowded train platform",
)


@dataclass(frozen=True)
class Agreement:
    """How close int8 query vectors came to fp32 ones on the probe texts (cosines after
    removing the probes' mean)."""

    min_cosine: float
    mean_cosine: float
    probes: int

    @property
    def ok(self) -> bool:
        """Whether int8 may be used in place of fp32."""
        return self.min_cosine >= MIN_COSINE

    def __str__(self) -> str:
        return (
            f"min cosine {self.min_cosine:.4f}, mean {self.mean_cosine:.4f} "
            f"to fp32 over {self.probes} probe texts (mean removed)"
        )


class _TextTower(torch.nn.Module):
    """CLIP's text transformer and projection, as `CLIPModel.get_text_features` runs them."""

    def __init__(self, text_model: torch.nn.Module, projection: torch.nn.Module):
        super().__init__()
        self.text_model = text_model
        self.projection = projection

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        out = self.text_model(input_ids=input_ids, attention_mask=attention_mask, return_dict=True)
        return self.projection(out.pooler_output)


class Int8TextEncoder:
    """Encodes texts with an int8 copy of a CLIP text tower, using its model's own tokenization
    (`model.preprocess`, of a `ClipText` or a SentenceTransformer).

    One text per call: int8 activations are quantized with a scale taken from the whole call's
    input, so in a batch a text's vector would depend on the other texts and their padding (and
    a query's results on who else was querying). The tower runs as a frozen TorchScript trace
    (made on first use): the eager module's Python overhead was a third of the time of a query.
    The trace is exact for any text length (checked in the tests) and only ever sees batch 1.
    """

    def __init__(self, model: ClipText | SentenceTransformer, tower: torch.nn.Module):
        self._model = model
        self._tower = tower
        self._traced: torch.jit.ScriptModule | None = None

    def encode(self, texts: list[str]) -> torch.Tensor:
        """Unnormalised text embeddings, shape (len(texts), dim)."""
        out = []
        with torch.inference_mode():
            for text in texts:
                features = self._model.preprocess([text])
                args = (features["input_ids"], features["attention_mask"])
                out.append(self._run(args))
        return torch.cat(out)

    def _run(self, args: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        if self._traced is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # TracerWarnings about Python-side shape checks
                traced = torch.jit.trace(self._tower, args, check_trace=False)
                self._traced = torch.jit.freeze(traced.eval())
        return self._traced(*args)


def clip_text_tower(model: ClipText | SentenceTransformer) -> torch.nn.Module | None:
    """The text tower of a `ClipText` or of a SentenceTransformer wrapping a Hugging Face
    CLIPModel, else None."""
    if isinstance(model, ClipText):
        return model.tower
    hf = getattr(model[0], "model", None)
    text_model = getattr(hf, "text_model", None)
    projection = getattr(hf, "text_projection", None)
    if text_model is None or projection is None:
        return None
    return _TextTower(text_model, projection)


def build_int8_text(
    model: ClipText | SentenceTransformer, fp32_encode: Callable[[list[str]], np.ndarray]
) -> tuple[Int8TextEncoder | None, str]:
    """An int8 text encoder for `model` and why, or None and why not.

    `fp32_encode(texts)` gives the reference (normalised) vectors the int8 ones must match.
    """
    tower = clip_text_tower(model)
    if tower is None:
        return None, "int8 text needs a CLIP text tower; this text model has none"
    if "fbgemm" not in torch.backends.quantized.supported_engines and (
        "x86" not in torch.backends.quantized.supported_engines
    ):
        return None, "this torch build has no int8 CPU kernels (fbgemm/x86)"
    with warnings.catch_warnings():
        # torch marks its eager quantization API for migration to torchao; it still works and
        # needs no extra package.
        warnings.simplefilter("ignore")
        quantized = torch.ao.quantization.quantize_dynamic(
            tower,
            {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig},
            dtype=torch.qint8,
        )
    encoder = Int8TextEncoder(model, quantized.eval())
    probes = list(PROBES)
    reference = fp32_encode(probes)
    candidate = _unit(encoder.encode(probes).float().numpy())
    mean = reference.mean(axis=0, keepdims=True)
    cosine = (_unit(reference - mean) * _unit(candidate - mean)).sum(axis=1)
    agreement = Agreement(float(cosine.min()), float(cosine.mean()), len(probes))
    if not agreement.ok:
        return None, f"int8 text tower refused: {agreement}, needs >= {MIN_COSINE}"
    return encoder, f"cpu int8 text tower: {agreement}"


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
