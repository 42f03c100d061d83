"""Media archives (zip files) written as 4CAT's processors write them, from the raw items of
`tests.fourcat.items` and the mapped columns of `tests.fourcat.tables`.

- File name of every result: `common/lib/dataset.py` `reserve_result_file`,
  `<query bit>-<key>.<ext>`; a processor's dataset has no label, so its query is its type.
- Generic image downloader: `processors/visualisation/download_images.py`
  `ImageDownloader.process` (names from `common/lib/helpers.py` `url_to_filename`, the
  extension then set to the format Pillow reads), zipped by `backend/lib/processor.py`
  `write_archive_and_finish` (flat, stored, `.metadata.json` at the root).
- TikTok images: `processors/visualisation/download_tiktok.py` `TikTokImageDownloader.process`
  with `collect_image` and `save_image` (`<post id>.<ext>`, metadata keyed by URL).
- Telegram images: `processors/visualisation/download-telegram-images.py`
  `TelegramImageDownloader` on `processors/visualisation/download_telegram_videos.py`
  `TelegramVideoDownloader.get_media` (metadata keyed by file name).

Images are small real pictures (Pillow), a colour and a shape from a seed, so the same URL
always gives the same bytes and different URLs different ones. Video archives are in
`tests.fourcat.videos`. Where 4CAT's order depends on a set or on download timing, these
follow the items' order.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from tests.fourcat.items import instagram_expected
from tests.fourcat.tables import Missing, mapped

METADATA = ".metadata.json"
# The Instagram image served as a multi-picture JPEG (saved by 4CAT as `.mpo`).
MPO_URL = instagram_expected()[1].image_urls[1]
_IMAGE_LINK = re.compile(
    r"(?:www\.|https?:\/\/)[^\s\(\)\]\[,']*\.(?:png|jpg|jpeg|gif|gifv)[^\s\(\)\]\[,']*", re.I
)


# --- names, keys, bytes ----------------------------------------------------------------------


def key(name: str) -> str:
    """A stable fake 4CAT dataset key: the md5 of `name`."""
    return hashlib.md5(name.encode("utf-8")).hexdigest()


def result_file(query: str, dataset_key: str, extension: str = "zip") -> str:
    """`reserve_result_file`: the query lower-cased, spaces as dashes, only [a-z0-9-] kept,
    cut at 100, dashes stripped, then `-<key>.<ext>` and runs of dashes made one."""
    bit = re.sub(r"[^a-z0-9\-]", "", query.replace(" ", "-").lower())[:100].strip("-")
    return re.sub(r"-+", "-", f"{bit}-{dataset_key}") + "." + extension.lower()


def key_of(archive: Path) -> str:
    """The dataset key in a result file's name."""
    return archive.stem.rsplit("-", 1)[-1]


def image_bytes(seed: str, fmt: str = "JPEG") -> bytes:
    """A 48x48 picture, colour and shape from `seed`; "MPO" gives a two-picture JPEG."""
    digest = hashlib.md5(seed.encode("utf-8")).digest()

    def picture(d: bytes) -> Image.Image:
        image = Image.new("RGB", (48, 48), (d[0], d[1], d[2]))
        draw = ImageDraw.Draw(image)
        ink = (255 - d[0], 255 - d[1], 255 - d[2])
        x, y = 4 + d[4] % 16, 4 + d[5] % 16
        box = (x, y, x + 16 + d[6] % 12, y + 16 + d[7] % 12)
        shape = d[3] % 4
        if shape == 0:
            draw.rectangle(box, fill=ink)
        elif shape == 1:
            draw.ellipse(box, fill=ink)
        elif shape == 2:
            top = ((box[0] + box[2]) // 2, box[1])
            draw.polygon([(box[0], box[3]), (box[2], box[3]), top], fill=ink)
        else:
            draw.line([box[:2], box[2:]], fill=ink, width=5)
            draw.line([(box[0], box[3]), (box[2], box[1])], fill=ink, width=5)
        return image

    out = io.BytesIO()
    if fmt == "MPO":
        second = picture(hashlib.md5(digest).digest())
        picture(digest).save(out, "MPO", save_all=True, append_images=[second])
    else:
        picture(digest).save(out, fmt)
    return out.getvalue()


def read_metadata(archive: Path) -> dict[str, Any]:
    """The `.metadata.json` of a written zip."""
    with zipfile.ZipFile(archive) as zf:
        return json.loads(zf.read(METADATA))


def url_to_filename(url: str, taken: Iterable[str], default_ext: str = ".png") -> str:
    """helpers.url_to_filename (no 255-byte cut needed here): the last path part without query
    or fragment if it looks like `name.ext`, else `file<default_ext>`; `:` and `~` removed;
    `-1`, `-2`... before the extension while the name is taken."""
    taken = set(taken)
    clean = url.split("/")[-1].split("?")[0].split("#")[0]
    base = clean if re.match(r"[^.]+\.[a-zA-Z0-9]{1,10}", clean) else "file" + default_ext
    base = re.sub(r"[:~]", "", base)
    name, dot, ext = base.rpartition(".")
    name, ext = (name, dot + ext) if dot else (base, "")
    filename, index = base, 1
    while filename in taken:
        filename, index = f"{name}-{index}{ext}", index + 1
    return filename


def plain(value: Any) -> Any:
    return value.default if isinstance(value, Missing) else value


def flat_zip(path: Path, files: Mapping[str, bytes]) -> Path:
    """write_archive_and_finish: every file of the staging folder at the root, stored."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in sorted(files):  # 4CAT: the staging folder's listing order
            zf.writestr(name, files[name])
    return path


def tree_zip(path: Path, files: Mapping[str, bytes]) -> Path:
    """shutil.make_archive(<result path without .zip>, "zip", <staging folder>)."""
    with tempfile.TemporaryDirectory() as staging:
        for name, data in files.items():
            target = Path(staging, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        shutil.make_archive(str(path.with_suffix("")), "zip", staging)
    return path


def zip_files(archive: Path) -> list[tuple[str, bytes]]:
    """The files of a zip as 4CAT's iterate_items yields them: dotfiles first, no folders."""
    with zipfile.ZipFile(archive) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        infos.sort(key=lambda i: (not i.filename.startswith("."), i.filename))
        return [(i.filename, zf.read(i)) for i in infos]


# --- generic image downloader ----------------------------------------------------------------

IMAGE_COLUMN = {"instagram": "image_urls", "tiktok": "thumbnail_url"}


def _clean_url(url: str) -> str:
    """ImageDownloader.clean_url: lower-case host, no trailing `?` or `/`, no fragment."""
    parts = url.split("/")
    parts[2] = parts[2].lower()
    url = "/".join(parts)
    url = url[:-1] if url.endswith("?") else url
    url = url[:-1] if url.endswith("/") else url
    return url.split("#")[0].replace(" ", "%20")


def _image_links(value: Any) -> list[str]:
    """The URLs the image downloader takes from a cell (split-comma on, its default)."""
    found: list[str] = []
    for part in str(value).strip().split(","):
        links = [part] if re.match(r"https?://(\S+)$", part) else _IMAGE_LINK.findall(part)
        found += [link for link in links if link not in found]
    return [_clean_url(link) for link in found]


def image_downloader_zip(
    folder: Path,
    platform: str,
    items: list[dict[str, Any]],
    *,
    source_key: str,
    fail: Iterable[str] = (),
    column: str | None = None,
) -> Path:
    """4CAT's "Download images" on a dataset. Instagram: the default column `image_urls` (the
    only column with "image" in its name), every URL of a post, carousels included. TikTok: 4CAT
    refuses `tiktok-search` datasets; this is a TikTok CSV uploaded to 4CAT (`upload-search`)
    with `thumbnail_url` picked (4CAT's default there would be `body`). Telegram: refused, and
    its columns hold no image URLs. `fail`: URLs whose download fails (e.g. a 404)."""
    if platform not in IMAGE_COLUMN:
        raise ValueError(f"4CAT's image downloader does not run on {platform} datasets")
    column = column or IMAGE_COLUMN[platform]
    post_ids: dict[str, list[str]] = {}
    for item in items:
        row = mapped(platform, item)
        if row is None or not plain(row.get(column)):
            continue
        for url in _image_links(plain(row[column])):
            post_ids.setdefault(url, []).append(str(row["id"]))
    if not post_ids:
        raise ValueError("no URLs: 4CAT finishes the dataset empty, without an archive")

    names: dict[str, str] = {}
    for url in post_ids:
        names[url] = url_to_filename(url, names.values(), ".png")
    failed = set(fail)
    files: dict[str, bytes] = {}
    metadata: dict[str, Any] = {}
    for url, ids in post_ids.items():
        name = names[url]
        if url not in failed:
            data = image_bytes(url, "MPO" if url == MPO_URL else "JPEG")
            detected = Image.open(io.BytesIO(data)).format or ""
            name = name.rsplit(".", 1)[0] + "." + detected.lower()
            files[name] = data  # two names that become one after the rename: the last stays
        metadata[url] = {
            "filename": name,
            "url": url,
            "success": url not in failed,
            "from_dataset": source_key,
            "post_ids": ids,
        }
    files[METADATA] = json.dumps(metadata).encode("utf-8")
    own = key(f"image-downloader/{source_key}/{column}/{sorted(failed)}")
    return flat_zip(folder / result_file("image-downloader", own), files)


# --- TikTok images ---------------------------------------------------------------------------

TIKTOK_IMAGE_COLUMN = {
    "thumbnail": "thumbnail_url",
    "music": "music_thumbnail",
    "author_avatar": "author_avatar",
    "avatar": "author_avatar",
}


def tiktok_images_zip(
    folder: Path, items: list[dict[str, Any]], *, kind: str, source_key: str
) -> Path:
    """4CAT's "Download TikTok images" with `thumb_type` `kind` ("thumbnail", "music",
    "author_avatar"; "avatar" for short). Each post's image is opened with Pillow and saved
    again as `<post id>.<subtype of the Content-Type>` (here image/jpeg), so every post has its
    file; the metadata is keyed by URL, so of posts sharing a URL (a sound's cover) only the
    last post's entry is left. All downloads succeed (a failure sends 4CAT refreshing the post
    through TikTok)."""
    column = TIKTOK_IMAGE_COLUMN[kind]
    files: dict[str, bytes] = {}
    metadata: dict[str, Any] = {}
    for item in items:
        row = mapped("tiktok", item)
        assert row is not None
        url, post_id = row[column], row["id"]
        picture = Image.open(io.BytesIO(image_bytes(url)))
        out = io.BytesIO()
        picture.save(out, "JPEG")  # save_image: Pillow writes the file anew
        filename = f"{post_id}.jpeg"
        files[filename] = out.getvalue()
        metadata[url] = {
            "filename": filename,
            "success": True,
            "from_dataset": source_key,
            "post_ids": [post_id],
        }
    files[METADATA] = json.dumps(metadata).encode("utf-8")
    own = key(f"image-downloader-tiktok/{kind}/{source_key}")
    return flat_zip(folder / result_file("image-downloader-tiktok", own), files)


# --- Telegram --------------------------------------------------------------------------------

TELEGRAM_REASONS = {
    "ok": "downloaded",
    "file_reference_expired": "The file reference Telegram gave us is no longer valid "
    "(FileReferenceExpiredError); re-running the downloader may help if the source message "
    "still exists.",
    "restricted_channel": "Telegram refused the file fetch because the source channel has "
    "'Restrict Saving Content' enabled. This is server-side enforcement and cannot be "
    "bypassed by any client.",
    "message_unavailable": "Message no longer exists (it may have been deleted)",
}


def _unreachable(entity: str) -> str:
    if entity.lstrip("-").isdigit():
        error = (
            f"Could not find the input entity for PeerChannel(channel_id={entity}) "
            "(PeerChannel). Please read https://docs.telethon.dev/en/stable/concepts/"
            "entities.html to find out more details."
        )
    else:
        error = f'No user has "{entity}" as username'
    return (
        f"Entity {entity} could not be reached: {error}. If this is a numeric channel ID, the "
        "account may no longer be a member, or the session may need to be re-warmed."
    )


def telegram_media_zip(
    folder: Path,
    messages: list[dict[str, Any]],
    *,
    source_key: str,
    fail: Mapping[str, str] | Iterable[str] = (),
) -> Path:
    """4CAT's "Download Telegram images": messages whose `attachment_type` is "photo" (4CAT also
    needs `attachment_data`, set for photos), per chat in order; a message without media is
    not looked at and gets no entry. Files `<chat>-<id>.jpeg`, metadata keyed by file name.
    `fail` maps a post id to a reason ("file_reference_expired", "restricted_channel",
    "message_unavailable") or a chat to "entity_unreachable"; a plain list of post ids means
    "file_reference_expired"."""
    if isinstance(fail, Mapping):
        reasons = dict(fail)
    else:
        reasons = dict.fromkeys(fail, "file_reference_expired")
    chats: dict[str, list[int]] = {}
    for message in messages:
        row = mapped("telegram", message)
        if row["attachment_type"] == "photo" and row["attachment_data"]:
            chats.setdefault(row["chat"], []).append(int(row["id"].split("-")[-1]))

    files: dict[str, bytes] = {}
    metadata: dict[str, Any] = {}
    done = 1
    for chat, ids in chats.items():
        if reasons.get(chat) == "entity_unreachable":
            for mid in ids:
                metadata[f"{chat}-{mid}"] = {
                    "filename": "",
                    "success": False,
                    "reason": "entity_unreachable",
                    "reason_description": _unreachable(chat),
                    "from_dataset": source_key,
                    "post_ids": [f"{chat}-{mid}"],
                }
            continue
        for mid in ids:
            post_id = f"{chat}-{mid}"
            reason = reasons.get(post_id, "ok")
            gone = reason == "message_unavailable"  # iter_messages yields None for it
            filename = f"{chat}-index-{done}" if gone else f"{post_id}.jpeg"
            if reason == "ok":
                files[filename] = image_bytes(f"telegram:{post_id}")
            metadata[filename] = {
                "filename": filename,
                "success": reason == "ok",
                "reason": reason,
                "reason_description": TELEGRAM_REASONS[reason],
                "from_dataset": source_key,
                "post_ids": [] if gone else [post_id],
            }
            done += 1
    files[METADATA] = json.dumps(metadata).encode("utf-8")
    own = key(f"image-downloader-telegram/{source_key}/{sorted(reasons.items())}")
    return flat_zip(folder / result_file("image-downloader-telegram", own), files)
