"""Archives for the end-to-end format tests: real (small) JPEGs in 4CAT media archives."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from tests.indexer.conftest import shape_images
from tests.indexer.fixtures_media import write_zip


def jpegs(n: int, seed: int) -> list[bytes]:
    """`n` distinct 160 px toy-shape JPEGs (equal seeds give equal bytes)."""
    out = []
    for img, _, _ in shape_images(n, seed):
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def image_archive(path: Path, files: dict[str, tuple[bytes, list[str]]], dataset: str) -> Path:
    """A 4CAT image-downloader zip: `{member: (bytes, post_ids)}`, metadata keyed by URL."""
    metadata = {
        f"https://p16-sign.tiktokcdn.com/{name}~tplv.jpeg": {
            "filename": name,
            "success": True,
            "post_ids": post_ids,
            "from_dataset": dataset,
        }
        for name, (_, post_ids) in files.items()
    }
    return write_zip(path, {name: data for name, (data, _) in files.items()}, metadata)


def frame_archive(
    path: Path, videos: dict[str, tuple[list[str] | None, list[bytes]]], dataset: str
) -> Path:
    """A 4CAT video-frame zip: `{video file: (post_ids, frames)}` -> one folder per video stem
    holding `video_frame_0000001.jpeg`...; the video zip's `.metadata.json` at the root.

    `post_ids` None writes an older TikTok entry keyed by the video id, without `post_ids`.
    A failed download (no file, no folder) is always added.
    """
    metadata: dict[str, Any] = {
        "https://www.tiktok.com/@gone/video/1": {
            "files": [],
            "success": False,
            "post_ids": ["7321692663852409999"],
            "from_dataset": dataset,
            "error": "HTTP Error 404: Not Found",
        }
    }
    members: dict[str, bytes] = {}
    for video, (post_ids, frames) in videos.items():
        stem = video.rsplit(".", 1)[0]
        entry: dict[str, Any] = {
            "files": [{"filename": video, "success": True, "metadata": {}}],
            "success": True,
            "from_dataset": dataset,
            "error": None,
        }
        if post_ids is None:
            metadata[stem] = entry
        else:
            metadata[f"https://www.tiktok.com/@someone/video/{stem}"] = entry | {
                "post_ids": post_ids
            }
        for number, frame in enumerate(frames, 1):
            members[f"{stem}/video_frame_{number:07d}.jpeg"] = frame
    return write_zip(path, members, metadata)
