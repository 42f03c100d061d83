"""What the stages ask of the models: small interfaces the encoders and the captioner meet
(`picsift.models.encoder.ClipEncoder`, `picsift.models.siglip.SiglipEncoder`,
`picsift.models.captioner.Captioner`), so stages and tests name them without importing torch."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

    from picsift.models.decode import Source
    from picsift.models.encoder import EmbedBatch

T = TypeVar("T")


class Encoder(Protocol):
    """Images and texts into one vector space."""

    model_id: str
    kind: str  # the model family, as manifests name it: CLIP, SigLIP
    batch_size: int  # images per forward pass

    @property
    def dim(self) -> int:
        """Vector dimension."""
        ...

    @property
    def text_description(self) -> str:
        """How texts are encoded (for the manifest)."""
        ...

    @property
    def score_meaning(self) -> str:
        """What a cosine of the model's vectors means (for the manifest)."""
        ...

    def embed_sources(
        self,
        items: Iterable[T],
        read: Callable[[T], Source] = ...,
        min_side: int | None = None,
    ) -> Iterator[EmbedBatch[T]]:
        """Decode and embed items batch by batch, failures named per item."""
        ...

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Vectors of decoded images, shape (n, dim)."""
        ...

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of texts in the image space, shape (n, dim)."""
        ...


class ImageCaptioner(Protocol):
    """Captions for images."""

    def caption_sources(
        self, items: Iterable[T], read: Callable[[T], Source] = ...
    ) -> Iterator[tuple[T, str | None, str | None]]:
        """`(item, caption, None)` per captioned item, `(item, None, reason)` for the rest."""
        ...
