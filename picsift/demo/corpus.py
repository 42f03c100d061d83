"""A small generated corpus in 4CAT's formats: a TikTok image-downloader zip and a post CSV.

The images are the toy models' coloured shapes, so the toy CLIP and captioner understand them.
The posts look like a real TikTok scrape: 19-digit ids, a dozen accounts of very different
activity, timestamps over eight weeks with each kind of image peaking in its own week, hashtags,
reposts of the same image by several posts, and two failed downloads in the archive.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from picsift.models.toy import COLORS, SHAPES, sample

DATASET_KEY = "d3m0c0rpu5a1b2c3d4e5f60718293a4b"
FIRST_POST_ID = 7_321_692_663_852_404_001
START = dt.datetime(2024, 3, 4, tzinfo=dt.UTC)  # a Monday
WEEKS = 8
IMAGE_SIDE = 192
AUTHORS = tuple(f"{name}_{i}" for i, name in enumerate(("farmer", "citizen", "news", "bot") * 3))
HASHTAGS = {"circle": "sun", "square": "poster", "triangle": "tent"}
CSV_COLUMNS = [
    "collected_from_url",
    "id",
    "thread_id",
    "author",
    "author_full",
    "author_followers",
    "author_likes",
    "author_videos",
    "author_avatar",
    "body",
    "stickers",
    "timestamp",
    "unix_timestamp",
    "is_duet",
    "is_ad",
    "is_paid_partnership",
    "is_sensitive",
    "is_photosensitive",
    "music_name",
    "music_id",
    "music_url",
    "music_thumbnail",
    "music_author",
    "video_url",
    "tiktok_url",
    "thumbnail_url",
    "likes",
    "comments",
    "shares",
    "plays",
    "hashtags",
    "challenges",
    "diversification_labels",
    "location_created",
    "effects",
    "warning",
]


@dataclass(frozen=True)
class DemoCorpus:
    """Where the generated corpus lies and what it holds."""

    archive: Path
    posts: Path
    n_images: int
    n_posts: int


def _jpeg(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _post_time(rng: np.random.Generator, peak_week: int) -> dt.datetime:
    """A time around a class's peak week (so topics over time shows waves)."""
    week = int(np.clip(round(rng.normal(peak_week, 1.2)), 0, WEEKS - 1))
    seconds = int(rng.integers(0, 7 * 86_400))
    return START + dt.timedelta(weeks=week, seconds=seconds)


def _row(post_id: str, author: str, when: dt.datetime, color: str, shape: str, likes: int):
    tags = ["protest", HASHTAGS[shape], color]
    url = f"https://www.tiktok.com/@{author}/video/{post_id}"
    values = {
        "collected_from_url": "https://www.tiktok.com/tag/protest",
        "id": post_id,
        "thread_id": post_id,
        "author": author,
        "author_full": author.replace("_", " ").title(),
        "author_followers": str(100 + 37 * len(author) * (1 + AUTHORS.index(author))),
        "body": f"the {color} {shape} again today " + " ".join(f"#{t}" for t in tags),
        "timestamp": when.strftime("%Y-%m-%d %H:%M:%S"),
        "unix_timestamp": str(int(when.timestamp())),
        "is_duet": "no",
        "is_ad": "no",
        "music_name": f"original sound - {author}",
        "tiktok_url": url,
        "thumbnail_url": f"https://p16-sign.tiktokcdn.example/{post_id}.jpeg",
        "likes": str(likes),
        "comments": str(likes // 10),
        "shares": str(likes // 20),
        "plays": str(likes * 30),
        "hashtags": ",".join(tags),
        "challenges": ",".join(tags),
    }
    return [values.get(column, "") for column in CSV_COLUMNS]


def write_demo_corpus(folder: Path, per_class: int = 20, seed: int = 7) -> DemoCorpus:
    """Write `folder/images.zip` (4CAT TikTok image downloader) and `folder/posts.csv`.

    Args:
        folder: Created if missing; the two files are replaced.
        per_class: Images per colour/shape class (12 classes).
        seed: Everything is generated from it, so two runs give the same bytes.

    Returns:
        The paths and counts.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    classes = [(c, s) for c in COLORS for s in SHAPES]
    peaks = {cls: int(rng.integers(0, WEEKS)) for cls in classes}
    activity = rng.dirichlet(np.full(len(AUTHORS), 0.6))
    images = sample(per_class * len(classes), seed=seed)
    metadata: dict[str, dict] = {}
    rows = []
    post_number = 0
    with zipfile.ZipFile(folder / "images.zip", "w") as archive:
        for image, color, shape in images:
            data = _jpeg(image.resize((IMAGE_SIDE, IMAGE_SIDE)))
            # Most images appear once; some circulate as reposts by other accounts.
            for _ in range(1 + int(rng.random() < 0.2) + int(rng.random() < 0.05)):
                post_id = str(FIRST_POST_ID + post_number)
                post_number += 1
                author = AUTHORS[int(rng.choice(len(AUTHORS), p=activity))]
                when = _post_time(rng, peaks[(color, shape)])
                rows.append(_row(post_id, author, when, color, shape, int(rng.integers(5, 5000))))
                name = f"{post_id}.jpeg"
                archive.writestr(name, data)
                metadata[f"https://p16-sign.tiktokcdn.example/{post_id}.jpeg"] = {
                    "filename": name,
                    "success": True,
                    "post_ids": [post_id],
                    "from_dataset": DATASET_KEY,
                }
        for i in range(2):
            metadata[f"https://p16-sign.tiktokcdn.example/expired-{i}.jpeg"] = {
                "filename": None,
                "success": False,
                "post_ids": [],
                "from_dataset": DATASET_KEY,
            }
        archive.writestr(".metadata.json", json.dumps(metadata, indent=1))
    rows.sort(key=lambda row: row[CSV_COLUMNS.index("unix_timestamp")])
    with (folder / "posts.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(rows)
    return DemoCorpus(folder / "images.zip", folder / "posts.csv", len(images), len(rows))
