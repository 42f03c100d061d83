"""`picsift tag CODEBOOK`: zero-shot tags for every image, from the stored vectors."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from picsift.errors import InputError
from picsift.models.tagging import zero_shot
from picsift.store import ImageStore, open_store

PAGE = 2000


def read_codebook(path: Path) -> list[str]:
    """Labels from a text file, one per line; blank lines and `#` comments are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read codebook {path}: {exc}") from None
    labels = list(dict.fromkeys(s.strip() for s in lines if s.strip() and not s.startswith("#")))
    if len(labels) < 2:
        raise InputError(f"codebook {path} needs at least two labels, one per line")
    return labels


def tag_store(
    store: ImageStore,
    encoder,
    labels: list[str],
    *,
    prompt: str = "{}",
    top_k: int = 3,
    threshold: float = 0.2,
) -> Counter[str]:
    """Write `tags` (labels) and `tag_scores` (their probabilities) on every image.

    Images where no label reaches the threshold get empty tags, so tags from an earlier
    codebook never linger. Returns how many images got each label.
    """
    label_vectors = encoder.embed_texts([prompt.format(label) for label in labels])
    scale = encoder.logit_scale
    counts: Counter[str] = Counter()
    page: list = []

    def flush() -> None:
        vectors = np.stack([r.vector for r in page])
        tags = zero_shot(
            vectors, label_vectors, labels, logit_scale=scale, top_k=top_k, threshold=threshold
        )
        store.images.set_payloads(
            (r.id, {"tags": [t for t, _ in found], "tag_scores": [round(p, 4) for _, p in found]})
            for r, found in zip(page, tags, strict=True)
        )
        counts.update(t for found in tags for t, _ in found)

    for record in store.images.scroll(with_payload=False, with_vectors=True, page_size=PAGE):
        page.append(record)
        if len(page) >= PAGE:
            flush()
            page = []
    if page:
        flush()
    store.refresh_index()
    return counts


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""

    @app.command()
    def tag(
        ctx: typer.Context,
        codebook: Annotated[Path, typer.Argument(help="Text file, one label per line.")],
        top_k: Annotated[int, typer.Option(min=1, help="Most labels per image.")] = 3,
        threshold: Annotated[
            float, typer.Option(min=0.0, max=1.0, help="Least probability for a label.")
        ] = 0.2,
        prompt: Annotated[
            str, typer.Option(help="Template each label is put into, e.g. 'a photo of {}'.")
        ] = "a photo of {}",
    ) -> None:
        """Zero-shot tags from a codebook, computed from the stored vectors (no re-decoding)."""
        from picsift.cli.common import encoder_for, settings_from

        if "{}" not in prompt:
            raise InputError(f"--prompt {prompt!r} must contain {{}} where the label goes")
        labels = read_codebook(codebook)
        settings = settings_from(ctx)
        with open_store(settings, command="picsift tag") as store:
            encoder = encoder_for(store, settings)
            counts = tag_store(
                store, encoder, labels, prompt=prompt, top_k=top_k, threshold=threshold
            )
            total = store.images.count()
        typer.echo(f"tagged {total:,} images with {len(labels)} labels")
        for label in labels:
            typer.echo(f"  {label}: {counts[label]:,}")
