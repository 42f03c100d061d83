"""Access (API key on writes, closed reads) and hostile input: every bad request is a 4xx with
a JSON error naming the parameter, never a 500, never a file outside the store."""

from __future__ import annotations

import io
import struct
import time
import zipfile
import zlib

import pytest
from fastapi.testclient import TestClient

from picsift.errors import ConfigError
from search.app import create_app
from search.uploads import Limits

KEY = "s3cret-key"
ID = "00000000-0000-0000-0000-000000000001"


def app_client(corpus, tmp_path=None, limits=None, **settings):
    app = create_app(
        corpus.settings(**settings), store=corpus.store, encoder=corpus.encoder, limits=limits
    )
    return TestClient(app)


@pytest.fixture(scope="module")
def keyed(corpus):
    with app_client(corpus, api_key=KEY) as client:
        yield client


@pytest.fixture(scope="module")
def closed(corpus):
    with app_client(corpus, api_key=KEY, public_read=False) as client:
        yield client


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


def assert_error(response, status: int, parameter: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "parameter", "message"} and body["message"]
    assert "Traceback" not in response.text
    if parameter is not None:
        assert body["parameter"] == parameter, body
    return body


def png_bytes(width: int = 32, height: int = 32) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(buffer, "PNG")
    return buffer.getvalue()


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


WRITES = [
    ("post", "/api/jobs/caption", {}),
    ("post", "/api/jobs/topics", {"json": {"action": "assign"}}),
    ("post", "/api/jobs/index", {"json": {"paths": ["."]}}),
    ("patch", "/api/topics/1", {"json": {"label": "renamed"}}),
    ("post", "/api/topics/merge", {"json": {"topics": [1, 2]}}),
]


@pytest.mark.parametrize(("method", "path", "kw"), WRITES)
def test_writes_need_the_key(keyed, method, path, kw):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}):
        response = getattr(keyed, method)(path, headers=headers, **kw)
        assert_error(response, 401, "authorization")
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_write_with_the_key_runs_and_reads_stay_open(keyed):
    response = keyed.post("/api/jobs/caption", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 202 and response.json()["kind"] == "caption"
    assert keyed.get("/api/search", params={"q": "red"}).status_code == 200


def test_an_upload_without_the_key_leaves_nothing(keyed, corpus):
    uploads = corpus.store.directory / "uploads"
    before = set(uploads.rglob("*")) if uploads.exists() else set()
    zip_buffer = io.BytesIO()
    with zipfile.ZipFile(zip_buffer, "w") as archive:
        archive.writestr("a.png", png_bytes())
    files = {"file": ("x.zip", zip_buffer.getvalue(), "application/zip")}
    assert_error(keyed.post("/api/jobs/index", files=files), 401)
    after = set(uploads.rglob("*")) if uploads.exists() else set()
    assert after == before


def test_closed_reads_need_the_key(closed):
    for path in (
        "/api/search?q=red",
        "/api/topics",
        f"/api/images/{ID}/thumb",
        "/api/status",
        "/api/export",
        "/api/topics/map",
        "/api/jobs",
    ):
        assert_error(closed.get(path), 401, "authorization")
    authorised = closed.get("/api/search?q=red", headers={"Authorization": f"Bearer {KEY}"})
    assert authorised.status_code == 200
    assert closed.get("/healthz").json() == {"status": "ok"}


def test_closed_reads_without_a_key_are_refused_at_start(corpus):
    with pytest.raises(ConfigError, match="PICSIFT_PUBLIC_READ=false needs PICSIFT_API_KEY"):
        create_app(corpus.settings(public_read=False), store=corpus.store)


TRAVERSAL = ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "/etc/passwd", "....//....//x"]


@pytest.mark.parametrize("evil", TRAVERSAL)
def test_path_traversal_in_path_parameters(client, evil):
    for template in (
        "/api/images/{}",
        "/api/images/{}/file",
        "/api/images/{}/thumb",
        "/api/images/{}/similar",
        "/api/topics/{}",
        "/api/topics/{}/collage",
        "/api/jobs/{}",
    ):
        response = client.get(template.format(evil))
        assert 400 <= response.status_code < 500, (template, evil, response.status_code)
        assert b"root:" not in response.content


@pytest.mark.parametrize(
    "raw",
    [
        "/..%2f..%2f..%2fetc%2fpasswd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/static/../../etc/passwd",
        "/api/images/%2e%2e%2f%2e%2e%2fetc%2fpasswd/file",
    ],
)
def test_path_traversal_in_raw_urls(client, raw):
    response = client.get(raw)
    assert 400 <= response.status_code < 500 and b"root:" not in response.content


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"q": "red", "dataset": "../../etc"}, "dataset"),
        ({"q": "red", "dataset": "..\\..\\windows"}, "dataset"),
        ({"q": "red", "group_by": "../x"}, "group_by"),
        ({"q": "red", "topic": "../1"}, "topic"),
        ({"q": "red", "date_from": "../../etc"}, "date_from"),
        ({"q": "red", "has_caption": "/etc/passwd"}, "has_caption"),
    ],
)
def test_path_traversal_in_query_parameters(client, params, parameter):
    assert_error(client.get("/api/search", params=params), 422, parameter)
    if parameter != "group_by":  # export has no grouping
        assert_error(client.get("/api/export", params=params), 422, parameter)


def test_traversal_text_in_free_text_is_only_text(client):
    # q and text are what to look for, not names: they are searched, never opened.
    response = client.get("/api/search", params={"q": "../../etc/passwd", "text": "../.."})
    assert response.status_code == 200 and b"root:" not in response.content


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


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": -1}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": 10**30}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "1e3"}, "limit"),
        ({"offset": -5}, "offset"),
        ({"offset": 10**12}, "offset"),
        ({"topic": [1] * 101}, "topic"),
        ({"date_from": "2024-13-45"}, "date_from"),
        ({"date_from": "2024-05-01", "date_to": "2024-04-01"}, "date_from"),
        ({"group_by": "user"}, "group_by"),
    ],
)
def test_absurd_limits_and_values(client, params, parameter):
    assert_error(client.get("/api/search", params={"q": "red", **params}), 422, parameter)


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/api/topics/map", {"bins": 100_000}, "bins"),
        ("/api/topics/map", {"limit": 10**6, "mode": "points"}, "limit"),
        ("/api/topics/map", {"mode": "heat"}, "mode"),
        ("/api/export", {"limit": 10**7}, "limit"),
        (f"/api/images/{ID}/similar", {"limit": 5000}, "limit"),
    ],
)
def test_absurd_values_elsewhere(client, path, params, parameter):
    assert_error(client.get(path, params=params), 422, parameter)


@pytest.mark.parametrize(
    ("q", "status"),
    [
        ("", 200),  # a blank query browses (see test_api_browse.py)
        ("   ", 200),
        ("\t\n", 200),
        ("x" * 1001, 422),
        ("red\x00circle", 422),
        ("red\x1bcircle", 422),
        ("🔴 circle", 200),
        ("красный круг", 200),
        ("دائرة حمراء", 200),
        ("红色圆圈", 200),
        ("e\u0301\u200d\ufeff", 200),
        ("x" * 1000, 200),
    ],
)
def test_unicode_and_empty_queries(client, q, status):
    response = client.get("/api/search", params={"q": q})
    assert response.status_code == status, response.text
    if status == 422:
        assert response.json()["parameter"] == "q"


def test_subtracting_without_a_query_and_broken_encoding(client):
    assert_error(client.get("/api/search", params={"not": "red"}), 422, "q")
    assert_error(client.get("/api/search", params={"q": " ", "not": "red"}), 422, "q")
    response = client.get("/api/search?q=%ED%A0%80%FF")  # not UTF-8
    assert response.status_code in (200, 422)


@pytest.mark.parametrize(
    ("method", "path", "kw", "parameter"),
    [
        ("patch", "/api/topics/1", {"json": {"label": ""}}, "label"),
        ("patch", "/api/topics/1", {"json": {"label": "x" * 201}}, "label"),
        (
            "patch",
            "/api/topics/1",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            None,
        ),
        ("post", "/api/topics/merge", {"json": {"topics": [1]}}, "topics"),
        ("post", "/api/topics/merge", {"json": {"topics": ["a", "b"]}}, "topics"),
        ("post", "/api/jobs/topics", {"json": {"action": "delete"}}, "action"),
        ("post", "/api/jobs/topics", {"json": {"min_topic_size": 1}}, "min_topic_size"),
        ("post", "/api/jobs/index", {"json": {"paths": "not a list"}}, "paths"),
        (
            "post",
            "/api/jobs/index",
            {"content": b"paths=/etc", "headers": {"content-type": "text/plain"}},
            "content-type",
        ),
        ("post", "/api/jobs/index", {"json": {"paths": ["."] * 101}}, "paths"),
    ],
)
def test_malformed_bodies(client, method, path, kw, parameter):
    response = getattr(client, method)(path, **kw)
    body = assert_error(response, 422)
    if parameter:
        assert body["parameter"] == parameter


def test_big_json_body_is_refused_early(tight):
    response = tight.post("/api/jobs/topics", json={"action": "fit", "pad": "x" * 5000})
    assert_error(response, 413, "body")


def test_unknown_routes_and_methods_are_json(client):
    assert_error(client.get("/api/nothing"), 404)
    assert_error(client.delete("/api/search"), 405)
