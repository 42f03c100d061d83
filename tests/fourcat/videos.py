"""Video archives written as 4CAT's processors write them: the video downloader, the TikTok
preset with its hidden step, and the frame and scene-frame extractors (see
`tests.fourcat.archives` for names, keys and images).

- Video downloader: `processors/visualisation/download_videos.py` `VideoDownloaderPlus`
  (`collect_video_urls`, `_handle_direct_download_response`, `_write_direct_response`,
  `_save_metadata`).
- TikTok video preset: `processors/visualisation/download_tiktok_video.py`
  `TikTokVideoDownloader.get_processor_pipeline` and `TikTokVideoMetadata.process`, with
  `backend/lib/preset.py` and `backend/lib/processor.py` (`attach_to`: the last step's zip is
  copied to the preset's result file).
- Frames: `processors/visualisation/video_frames.py` `VideoFrames.process` and
  `processors/visualisation/video_scene_frames.py` `VideoSceneFrames.process`, both zipped with
  `shutil.make_archive` (folder entries included, deflated).

A video is the bytes given for its post or URL (`videos=`: real ones from `toy_video`, toy
shapes encoded with PyAV), else placeholder bytes (an MP4 `ftyp` box, not decodable: a broken
download).
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from tests.fourcat.archives import (
    METADATA,
    flat_zip,
    image_bytes,
    key,
    key_of,
    plain,
    result_file,
    tree_zip,
    url_to_filename,
    zip_files,
)
from tests.fourcat.tables import mapped
from tests.videos import write_video

PROXY = "__localhost__"  # what 4CAT's proxied requests report when no proxy is configured
FFMPEG_BANNER = (
    "ffmpeg version 7.1.1-1+b1 Copyright (c) 2000-2025 the FFmpeg developers\n"
    "  built with gcc 14 (Debian 14.2.0-19)\n"
)
# TikTok's CDN addresses as the embed page gives them: the path ends in `/`, so
# url_to_filename finds no file name there.
TIKTOK_CDN = (
    "https://v16-webapp-prime.tiktok.com/video/tos/useast2a/tos-useast2a-pve-0068/o{post_id}/"
    "?a=1988&bti=ODszNWYuMDE6&ch=0&cr=3&dr=0&lr=tiktok_m&cd=0%7C0%7C0%7C&cv=1&br=2176"
    "&bt=1088&cs=0&ds=3&ft=4fUEKMvt8Zmo0&mime_type=video_mp4&qs=0&rc=Zmk4&l=202401311200"
    "&btag=e00088000"
)
_IMAGE_PATH = re.compile(r"\.(?:png|jpe?g|gif|webp)$", re.I)


def video_bytes(seed: str) -> bytes:
    """Placeholder video content (an MP4 `ftyp` box and the seed's hash; not decodable)."""
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    return head + b"\x00\x00\x00\x18free" + hashlib.md5(seed.encode("utf-8")).digest()


def toy_video(
    scenes: Sequence[tuple[float, str]],
    *,
    duration: float = 2.0,
    suffix: str = ".mp4",
    seed: int = 0,
    **options: object,
) -> bytes:
    """A real, decodable video of toy-shape scenes (`tests.videos.write_video`, e.g.
    `[(0, "blue square"), (1, "red circle")]`); the same arguments give the same bytes, encoded
    once per test session. `options` go to `write_video` (`fps`, `size`, `codec`, `audio`)."""
    frozen = tuple((float(start), name) for start, name in scenes)
    return _encoded(frozen, duration, suffix, seed, tuple(sorted(options.items())))


@lru_cache(maxsize=64)
def _encoded(scenes: tuple, duration: float, suffix: str, seed: int, options: tuple) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "video" + suffix)
        write_video(path, scenes, duration=duration, seed=seed, **dict(options))
        return path.read_bytes()


def _content(url: str, post_ids: list[str], videos: Mapping[str, bytes]) -> bytes:
    """The bytes served at `url`: given for the URL, else for the first of its posts given
    one, else a placeholder."""
    for name in (url, *post_ids):
        if name in videos:
            return videos[name]
    return video_bytes(url)


# --- video downloader ------------------------------------------------------------------------


def _download_videos(
    folder: Path,
    from_dataset: str,
    posts: list[tuple[str, list[str], str | None]],
    fail: Iterable[str],
    also_indirect: str,
    zip_name: str,
    videos: Mapping[str, bytes],
) -> Path:
    """VideoDownloaderPlus on (post id, URLs, yt-dlp fallback URL) rows, every URL fetched
    directly: a video is saved under url_to_filename (taken names on disk get -1, -2...), an
    image is "Not a Video", a URL in `fail` answers 404. A URL of several posts is one entry
    (every post id) and one file."""
    urls: dict[str, dict[str, Any]] = {}
    for post_id, links, fallback in posts:
        for url in links:
            entry = urls.setdefault(url, {"post_ids": [], "_ytdlp_fallback_url": fallback})
            if post_id not in entry["post_ids"]:
                entry["post_ids"].append(post_id)
    if not urls:
        raise ValueError("no video URLs: 4CAT finishes the dataset with an error")

    failed = set(fail)
    files: dict[str, bytes] = {}
    metadata: dict[str, Any] = {}
    for url, entry in urls.items():
        entry.update(success=False, retry=True)  # add_to_queue
        if url in failed:
            entry["error"] = f"Website denied download request (Code 404 / Reason Not Found): {url}"
        elif _IMAGE_PATH.search(url.split("?")[0]):
            entry["error"] = f"Not a Video (image/jpeg): {url}"
            entry.update(retry=False, also_indirect=also_indirect)
        else:
            filename = url_to_filename(url, files, ".mp4")  # Content-Type video/mp4
            files[filename] = _content(url, entry["post_ids"], videos)
            entry["downloader"] = "direct_link"
            entry["files"] = [{"filename": filename, "metadata": {"proxy": PROXY}, "success": True}]
            entry["success"] = True
        metadata[url] = {"from_dataset": from_dataset, **entry}
    files[METADATA] = json.dumps(metadata).encode("utf-8")
    return flat_zip(folder / zip_name, files)


def video_downloader_zip(
    folder: Path,
    platform: str,
    items: list[dict[str, Any]],
    *,
    source_key: str,
    fail: Iterable[str] = (),
    videos: Mapping[str, bytes] | None = None,
) -> Path:
    """4CAT's "Download videos" on a dataset (`from_dataset` = `source_key`), with 4CAT's default
    column: Instagram's `media_urls` (photos there are "Not a Video" entries, which 4CAT
    tolerates on Instagram datasets). TikTok: 4CAT refuses `tiktok-search` datasets; this is
    an uploaded TikTok CSV (`upload-search`), default column `video_url`. Telegram: refused.
    `videos`: the bytes of a video by post id or URL (see `toy_video`); others are
    placeholders."""
    fail = tuple(fail)
    posts: list[tuple[str, list[str], str | None]] = []
    for item in items:
        row = mapped(platform, item) if platform in ("instagram", "tiktok") else None
        if platform not in ("instagram", "tiktok"):
            raise ValueError(f"4CAT's video downloader does not run on {platform} datasets")
        if row is not None:
            cell = plain(row["media_urls" if platform == "instagram" else "video_url"])
            # collect_video_urls: an empty cell gives no URL (a Polaris post has none)
            links = [link for link in str(cell).split(",") if link]
            if links:
                posts.append((row["id"], links, None))
    name = result_file("video-downloader", key(f"video-downloader/{source_key}/{sorted(fail)}"))
    return _download_videos(folder, source_key, posts, fail, "none", name, videos or {})


def tiktok_video_preset(
    folder: Path,
    items: list[dict[str, Any]],
    *,
    source_key: str,
    fail: Iterable[str] = (),
    videos: Mapping[str, bytes] | None = None,
) -> tuple[Path, str]:
    """4CAT's "Download TikTok videos": the hidden `tiktok-video-downloader-metadata` step writes a
    CSV (id, tiktok_url, video_url from TikTok's embed page, errors, fallback_only) and the
    video downloader runs on that CSV (`video_url`, fallback `tiktok_url`), so `from_dataset`
    is the helper's key. The CDN URLs end in `/`, so the videos are `file.mp4`, `file-1.mp4`...
    `fail`: post ids whose video answers 404; `videos`: the bytes of a post's video (see
    `toy_video`), placeholders for the others. Returns the preset's zip (the downloader's,
    copied) and the helper's key."""
    fail = tuple(fail)
    preset = key(f"video-downloader-tiktok/{source_key}/{sorted(fail)}")
    helper = key(f"tiktok-video-downloader-metadata/{preset}")
    posts: list[tuple[str, list[str], str | None]] = []
    for item in items:
        row = mapped("tiktok", item)
        assert row is not None
        video_url = TIKTOK_CDN.format(post_id=row["id"])
        posts.append((str(row["id"]), [video_url], row["tiktok_url"]))
    failed = {TIKTOK_CDN.format(post_id=post_id) for post_id in fail}
    name = result_file("video-downloader-tiktok", preset)
    zip_path = _download_videos(folder, helper, posts, failed, "all", name, videos or {})
    return zip_path, helper


# --- frames ----------------------------------------------------------------------------------


def video_frames_zip(
    folder: Path, videos_zip: Path, *, frames_per_video: int = 2, failed: Iterable[str] = ()
) -> Path:
    """4CAT's "Extract frames from videos": the videos zip's `.metadata.json` copied, and per file a
    folder `<stem>/` with `video_frame_0000001.jpeg`... and `ffmpeg_error.log` (ffmpeg always
    prints its banner on stderr; nothing on stdout, so no `ffmpeg_output.log`). A stem in
    `failed`: its folder holds the error log only. If every video fails 4CAT writes no zip."""
    bad = set(failed)
    tree: dict[str, bytes] = {}
    done = 0
    for name, data in zip_files(videos_zip):
        if name == METADATA:
            tree[name] = data
            continue
        stem = PurePosixPath(name).stem
        log = FFMPEG_BANNER + f"Input #0, mov,mp4,m4a,3gp,3g2,mj2, from '{name}':\n"
        if stem in bad:
            log = FFMPEG_BANNER + f"{name}: Invalid data found when processing input\n"
        else:
            for n in range(1, frames_per_video + 1):
                tree[f"{stem}/video_frame_{n:07d}.jpeg"] = image_bytes(f"{name}#frame{n}")
            done += 1
        tree[f"{stem}/ffmpeg_error.log"] = log.encode("utf-8")
    if not done:
        raise ValueError("no frames from any video: 4CAT finishes with an error, no archive")
    own = key(f"video-frames/{key_of(videos_zip)}/{frames_per_video}/{sorted(bad)}")
    return tree_zip(folder / result_file("video-frames", own), tree)


def scene_frames_zip(folder: Path, videos_zip: Path, *, scenes: Mapping[str, int]) -> Path:
    """4CAT's "Extract key frames from each scene" (after the scene detector on the videos): the
    videos zip's `.metadata.json` copied, and for a video stem with n scenes a folder
    `<stem>/` with `<stem>_scene_1.jpeg`..`<stem>_scene_<n>.jpeg`; no scenes, no folder."""
    tree: dict[str, bytes] = {}
    for name, data in zip_files(videos_zip):
        if name == METADATA:
            tree[name] = data
            continue
        stem = PurePosixPath(name).stem
        for n in range(1, scenes.get(stem, 0) + 1):
            tree[f"{stem}/{stem}_scene_{n}.jpeg"] = image_bytes(f"{name}#scene{n}")
    detector = key(f"video-scene-detector/{key_of(videos_zip)}")
    own = key(f"video-scene-frames/{detector}/{sorted(scenes.items())}")
    return tree_zip(folder / result_file("video-scene-frames", own), tree)
