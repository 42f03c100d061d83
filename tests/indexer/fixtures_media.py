"""Small 4CAT-style media archives built with Pillow, shaped like the real processors' output."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from PIL import Image

DATASET = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
VIDEO_DATASET = "f0e1d2c3b4a5968778695a4b3c2d1e0f"

POST_A = "7321692663852404001"
POST_B = "7321692663852404002"
POST_C = "7321692663852404003"
POST_D = "7321692663852404004"
POST_E = "7321692663852404005"
VIDEO_POST = "7321692663852404010"


def image_bytes(fmt: str = "JPEG", color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A tiny real image in `fmt`."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), color).save(buf, fmt)
    return buf.getvalue()


def write_zip(
    path: Path, members: dict[str, bytes], metadata: dict[str, Any] | bytes | None = None
) -> Path:
    """A deflated zip of `members`, with `.metadata.json` first when given (as 4CAT does)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        if metadata is not None:
            raw = metadata if isinstance(metadata, bytes) else json.dumps(metadata).encode()
            archive.writestr(".metadata.json", raw)
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def unpack(archive: Path, folder: Path) -> Path:
    """Extract `archive` into `folder` (a researcher who unzipped the download)."""
    with zipfile.ZipFile(archive) as z:
        z.extractall(folder)
    return folder


def _entry(filename: str | None, post_ids: list[str], success: bool = True) -> dict[str, Any]:
    return {
        "filename": filename,
        "success": success,
        "from_dataset": DATASET,
        "post_ids": post_ids,
    }


def image_downloader_zip(path: Path) -> Path:
    """Generic image downloader: URL keys, names from the URL (`-1` on clashes).

    `shared.png` is used by two entries; one download failed; `logo.jpg` holds PNG bytes
    (the extension lies) and `empty.jpg` is zero bytes.
    """
    metadata = {
        "https://cdn.example.com/a/photo.jpg": _entry("photo.jpg", [POST_A]),
        "https://cdn.example.com/b/photo.jpg": _entry("photo-1.jpg", [POST_B, POST_C]),
        "https://cdn.example.com/shared.png?s=1": _entry("shared.png", [POST_B]),
        "https://cdn.example.com/shared.png?s=2": _entry("shared.png", [POST_D, POST_B]),
        "https://cdn.example.com/gone.jpg": _entry(None, [POST_E], success=False),
        "https://cdn.example.com/logo": _entry("logo.jpg", [POST_E]),
        "https://cdn.example.com/empty.jpg": _entry("empty.jpg", [POST_A]),
    }
    members = {
        "photo.jpg": image_bytes(),
        "photo-1.jpg": image_bytes(color=(0, 200, 0)),
        "shared.png": image_bytes("PNG"),
        "logo.jpg": image_bytes("PNG", (0, 0, 200)),
        "empty.jpg": b"",
    }
    return write_zip(path, members, metadata)


def tiktok_thumbnails_zip(path: Path, with_metadata: bool = True) -> Path:
    """TikTok image downloader: members named `<post_id>.jpeg`."""
    members = {f"{POST_A}.jpeg": image_bytes(), f"{POST_B}.jpeg": image_bytes("PNG")}
    metadata = {
        f"https://p16-sign.tiktokcdn.com/{post_id}~tplv.jpeg": _entry(name, [post_id])
        for name, post_id in ((f"{POST_A}.jpeg", POST_A), (f"{POST_B}.jpeg", POST_B))
    }
    return write_zip(path, members, metadata if with_metadata else None)


def video_frames_zip(path: Path) -> Path:
    """Frame archive: one folder per video (both naming schemes), the video zip's metadata."""

    def video(name: str, post_ids: list[str], success: bool = True) -> dict[str, Any]:
        files = [{"filename": name, "success": success, "metadata": {}}] if success else []
        return {
            "files": files,
            "success": success,
            "post_ids": post_ids,
            "from_dataset": VIDEO_DATASET,
            "error": None if success else "HTTP Error 404",
        }

    metadata = {
        f"https://www.tiktok.com/@someone/video/{VIDEO_POST}": video(
            f"{VIDEO_POST}.mp4", [VIDEO_POST]
        ),
        "https://youtu.be/abc": video("clip b.mp4", [POST_A, POST_B]),
        "https://youtu.be/dead": video("dead.mp4", [POST_C], success=False),
    }
    members = {
        f"{VIDEO_POST}/video_frame_0000001.jpeg": image_bytes(),
        f"{VIDEO_POST}/video_frame_0000002.jpeg": image_bytes(color=(1, 2, 3)),
        f"{VIDEO_POST}/ffmpeg_error.log": b"frame=2",
        "clip b/clip b_scene_1.jpeg": image_bytes(color=(9, 9, 9)),
        "clip b/clip b_scene_2.jpeg": image_bytes(color=(8, 8, 8)),
    }
    path = write_zip(path, members, metadata)
    with zipfile.ZipFile(path, "a") as archive:  # shutil.make_archive writes folder entries
        archive.writestr(f"{VIDEO_POST}/", b"")
        archive.writestr("clip b/", b"")
    return path
