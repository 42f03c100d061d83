"""Fixtures for indexer tests: 4CAT-style corpora of toy shapes, and the toy encoder."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import pytest

from picsift.models.toy import sample

DATASET = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
FIRST_ID = 7321692663852404001


def post_id(i: int) -> str:
    """A 19-digit TikTok-style post id (does not survive float64)."""
    return str(FIRST_ID + i)


def shape_images(n: int, seed: int = 3) -> list:
    """`n` toy shape images as (PIL image, colour, shape)."""
    return [(img.resize((160, 160)), c, s) for img, c, s in sample(n, seed=seed)]


def write_4cat_zip(path: Path, n: int, seed: int = 3, shared: bool = True) -> list:
    """A 4CAT image-downloader zip: n images, `.metadata.json` keyed by URL; the last image
    is also used by a second post when `shared`. Returns the (image, colour, shape) list."""
    images = shape_images(n, seed)
    metadata = {}
    with zipfile.ZipFile(path, "w") as archive:
        for i, (img, _, _) in enumerate(images):
            name = f"{post_id(i)}.jpeg"
            buf = path.parent / f".tmp-{i}.jpg"
            img.save(buf, "JPEG", quality=92)
            archive.write(buf, name)
            buf.unlink()
            ids = [post_id(i)] + ([post_id(n)] if shared and i == n - 1 else [])
            metadata[f"https://cdn.example/{i}.jpeg"] = {
                "filename": name,
                "success": True,
                "post_ids": ids,
                "from_dataset": DATASET,
            }
        archive.writestr(".metadata.json", json.dumps(metadata))
    return images


def write_tiktok_csv(path: Path, n_posts: int, images: list | None = None) -> None:
    """A 4CAT TikTok CSV with `n_posts` posts (ids as in `write_4cat_zip`)."""
    columns = ["id", "thread_id", "author", "body", "timestamp", "unix_timestamp"]
    columns += ["tiktok_url", "hashtags", "likes", "Transcript"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for i in range(n_posts):
            colour = images[i % len(images)][1] if images else "red"
            ts = 1_700_000_000 + i * 86_400
            writer.writerow(
                [
                    post_id(i),
                    post_id(i),
                    f"user{i % 3}",
                    f"post {i} about {colour} things #protest",
                    f"2023-11-{14 + i % 10:02d} 22:13:20",
                    str(ts),
                    f"https://www.tiktok.com/@user{i % 3}/video/{post_id(i)}",
                    "protest,farmers" if i % 2 else "protest",
                    str(10 * i),
                    f"transcript {i}",
                ]
            )


def index(store: Path, *args: object) -> dict:
    """Run `picsift index --no-captions` with the toy model; the JSON report."""
    from typer.testing import CliRunner

    from cli.main import app

    report = store.parent / "report.json"
    argv = ["--store", str(store), "--model", "toy", "index", *map(str, args)]
    result = CliRunner().invoke(
        app, [*argv, "--no-captions", "--report", str(report)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return json.loads(report.read_text())


@pytest.fixture(scope="session")
def toy_encoder():
    from picsift.models.encoder import ClipEncoder
    from picsift.models.runtime import Runtime

    return ClipEncoder("toy", runtime=Runtime("cpu", "fp32", "test"), batch_size=8)
