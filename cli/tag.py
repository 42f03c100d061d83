"""`picsift tag CODEBOOK`: zero-shot tags for every image, from the stored vectors."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from picsift.errors import InputError
from picsift.models.tagging import calibrated_tags
from picsift.relevance import MIN_IMAGES, fit_null, label_edges, null_texts, sample_vectors
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


@dataclass
class TagRun:
    """What a tagging run applied, and the edges it applied them by."""

    labels: list[str]
    prompt: str
    edges: list[float]
    counts: Counter[str]
    method: str

    def record(self) -> dict:
        """The run as JSON, for `PICSIFT_DATA/tags.json`."""
        return {
            "labels": [
                {"label": label, "edge": round(edge, 4), "images": self.counts[label]}
                for label, edge in zip(self.labels, self.edges, strict=True)
            ],
            "prompt": self.prompt,
            "tag_scores": "margin of the label's score above its edge",
            "method": self.method,
        }


def tag_store(
    store: ImageStore,
    encoder,
    labels: list[str],
    *,
    prompt: str = "{}",
    top_k: int = 3,
    min_margin: float = 0.0,
) -> TagRun:
    """Write `tags` (labels) and `tag_scores` (margins above each label's edge) on every image.

    Images where no label passes its edge get empty tags, so tags from an earlier codebook
    never linger.

    Raises:
        InputError: the store has too few images to calibrate the edges on.
    """
    label_vectors = encoder.embed_texts([prompt.format(label) for label in labels])
    sample = sample_vectors(store)
    null = fit_null(store, encoder.embed_texts(null_texts(prompt)), sample)
    if null is None:
        raise InputError(
            f"tagging needs at least {MIN_IMAGES} images to calibrate each label's edge on; "
            "index more images first"
        )
    edges = label_edges(null, sample, label_vectors)
    counts: Counter[str] = Counter()
    page: list = []

    def flush() -> None:
        vectors = np.stack([r.vector for r in page])
        tags = calibrated_tags(
            vectors, label_vectors, labels, edges, top_k=top_k, min_margin=min_margin
        )
        store.images.set_payloads(
            (r.id, {"tags": [t for t, _ in found], "tag_scores": [round(m, 4) for _, m in found]})
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
    return TagRun(labels, prompt, [float(e) for e in edges], counts, null.describe())


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""

    @app.command()
    def tag(
        ctx: typer.Context,
        codebook: Annotated[Path, typer.Argument(help="Text file, one label per line.")],
        top_k: Annotated[int, typer.Option(min=1, help="Most labels per image.")] = 3,
        min_margin: Annotated[
            float,
            typer.Option(
                min=0.0, help="Extra score above each label's calibrated edge a label needs."
            ),
        ] = 0.0,
        prompt: Annotated[
            str, typer.Option(help="Template each label is put into, e.g. 'a photo of {}'.")
        ] = "a photo of {}",
    ) -> None:
        """Zero-shot tags from a codebook, computed from the stored vectors (no re-decoding).

        Each label is applied where its score passes an edge calibrated on this store by
        meaningless prompts (see the README's "Zero-shot tags")."""
        from cli.common import settings_from
        from picsift.models.factory import encoder_for
        from topics.relabel import relabel_topics

        if "{}" not in prompt:
            raise InputError(f"--prompt {prompt!r} must contain {{}} where the label goes")
        labels = read_codebook(codebook)
        settings = settings_from(ctx)
        with open_store(settings, command="picsift tag") as store:
            encoder = encoder_for(store, settings)
            run = tag_store(
                store, encoder, labels, prompt=prompt, top_k=top_k, min_margin=min_margin
            )
            total = store.images.count()
            # Topics fitted before these tags get them as words without a refit.
            relabeled = relabel_topics(store, settings.data_dir)
        record = settings.data_dir / "tags.json"
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(run.record(), indent=2))
        typer.echo(f"tagged {total:,} images with {len(labels)} labels (run recorded in {record})")
        for label, edge in zip(labels, run.edges, strict=True):
            typer.echo(f"  {label}: {run.counts[label]:,}  (edge {edge:.3f})")
        typer.echo(run.method)
        if relabeled.run:
            typer.echo(relabeled.summary())
