"""Hostile uploads and index jobs under small limits: index paths outside the allowed folders,
malformed, decompression-bomb and oversized images and zips, and request bodies that lie about
or exceed their size are refused with a JSON 4xx and leave nothing behind; an upload's file name
never becomes a path outside the store's uploads folder."""

from __future__ import annotations

import io
import struct
import time
import zipfile
import zlib

import pytest

from search.uploads import Limits
from tests.search.access_helpers import app_client, assert_error, png_bytes


@pytest.fixture(scope="module")
def tight(corpus, tmp_path_factory):
    """Small upload limits, and index jobs confined to one folder."""
    root = tmp_path_factory.mktemp("index-root")
    limits = Limits(
        image_bytes=4000,
        image_pixels=40_000,
        zip_bytes=6000,
        zip_member_bytes=3000,
        body_bytes=2000,
        index_roots=(root,),
    )
    with app_client(corpus, limits=limits) as client:
        client.index_root = root
        yield client


def png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that declares a huge size (a decompression bomb's calling card)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def wait(client, url: str, timeout: float = 120.0) -> dict:
    """Poll a job until it is no longer queued or running."""
    deadline = time.monotonic() + timeout
    while (job := client.get(url).json())["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    return job


@pytest.mark.parametrize(
    ("paths", "status"),
    [
        (["/etc"], 403),
        (["../../../../etc/passwd"], 403),
        (["/"], 403),
        (["missing.zip"], 422),
        ([""], 422),
        ([], 422),
    ],
)
def test_index_paths_outside_the_allowed_folders(tight, paths, status):
    assert_error(tight.post("/api/jobs/index", json={"paths": paths}), status)


def test_upload_names_never_become_paths(tight, corpus):
    zip_buffer = io.BytesIO()
    with zipfile.ZipFile(zip_buffer, "w") as archive:
        archive.writestr("readme.txt", "no images here: the shared corpus stays as it is")
    files = {"file": ("../../../../evil.zip", zip_buffer.getvalue(), "application/zip")}
    response = tight.post("/api/jobs/index", files=files, data={"captions": "false"})
    assert response.status_code == 202, response.text
    saved = list((corpus.store.directory / "uploads").rglob("*.zip"))
    assert [p.name for p in saved if "evil" in p.name] == ["evil.zip"]
    assert all(p.is_relative_to(corpus.store.directory / "uploads") for p in saved)
    job = wait(tight, response.json()["url"])
    assert job["state"] == "done" and job["result"]["found"] == 0


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (b"", 422, "empty"),
        (b"GIF89a not really", 422, "not an image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", 422, "not an image"),
        (png_bytes()[:60], 422, "file"),
        (png_header_only(10_000, 10_000), 413, "pixel limit"),
        (png_header_only(60_000, 60_000), 413, "pixel limit"),
        (png_bytes(1000, 1000) + b"\0" * 5000, 413, "limit"),
    ],
)
def test_malformed_and_huge_image_uploads(tight, content, status, message):
    files = {"file": ("q.png", content, "image/png")}
    body = assert_error(tight.post("/api/search/image", files=files), status)
    assert message in body["message"]


def test_upload_without_a_file_or_with_a_body_lie(tight):
    assert_error(tight.post("/api/search/image", data={"q": "red"}), 422, "file")
    chunks = (b"x" * 1000 for _ in range(200))  # chunked: no Content-Length to trust
    headers = {"content-type": "multipart/form-data; boundary=b"}
    assert_error(tight.post("/api/search/image", content=chunks, headers=headers), 413, "body")
    lying = {"content-length": "99999999999", "content-type": "application/json"}
    assert_error(tight.post("/api/jobs/index", content=b"{}", headers=lying), 413, "body")


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (b"PK not a zip", 422, "not a zip"),
        (b"", 422, "empty"),
        (zipped({"bomb.png": b"\0" * 50_000}), 413, "unpacks to 50,000 bytes"),
        (b"x" * 7000, 413, "limit"),
    ],
)
def test_malformed_and_huge_zip_uploads(tight, corpus, content, status, message):
    files = {"file": ("x.zip", content, "application/zip")}
    body = assert_error(tight.post("/api/jobs/index", files=files), status)
    assert message in body["message"]
    leftovers = [p for p in (corpus.store.directory / "uploads").rglob("x.zip")]
    assert leftovers == []


def test_big_json_body_is_refused_early(tight):
    response = tight.post("/api/jobs/topics", json={"action": "fit", "pad": "x" * 5000})
    assert_error(response, 413, "body")
