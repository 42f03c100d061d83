"""`GET /api/images/{id}/file` serves only the indexed bytes: a file swapped for a link to
another file, edited in place, replaced by a FIFO, or a zip replaced by another answers 409, a
removed one 410, and the other file's bytes never leave the server (#23 item 1)."""

from __future__ import annotations

import json
import os
import zipfile

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from cli.main import app
from picsift.settings import Settings
from picsift.store.edge import EdgeStore
from search.app import create_app

runner = CliRunner()
COLORS = ("red", "green", "blue", "yellow", "purple", "cyan")
IN_ZIPS = {"pack.zip": "orange", "swap.zip": "pink"}
SECRET = b"root:x:0:0:root:/root:/bin/bash\n"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Indexed PNGs (two inside zips), a secret file beside them, and a client; `ids` maps
    each file or member name to its image id. Each test changes files of its own."""
    tmp_path = tmp_path_factory.mktemp("served")
    folder = tmp_path / "imgs"
    folder.mkdir()
    for color in COLORS:
        Image.new("RGB", (64, 64), color).save(folder / f"{color}.png")
    for zip_name, color in IN_ZIPS.items():
        Image.new("RGB", (64, 64), color).save(tmp_path / f"{color}.png")
        with zipfile.ZipFile(folder / zip_name, "w") as archive:
            archive.write(tmp_path / f"{color}.png", f"{color}.png")
    (tmp_path / "secret.txt").write_bytes(SECRET)
    store = tmp_path / "store"
    zips = [str(folder / name) for name in IN_ZIPS]
    argv = ["--store", str(store), "--model", "toy", "index", str(folder), *zips]
    result = runner.invoke(app, [*argv, "--no-captions"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with EdgeStore(store) as s:
        records = list(s.images.scroll())
    ids = {}
    for record in records:
        entry = record.payload["files"][0]
        ids[entry["member"] or os.path.basename(entry["path"])] = record.id
    settings = Settings(store=str(store), caption_model="none", model="toy")
    with TestClient(create_app(settings)) as client:
        client.folder, client.ids = folder, ids
        yield client


def get_file(client, name: str):
    return client.get(f"/api/images/{client.ids[name]}/file")


def test_an_unchanged_file_is_served_whole(served):
    response = get_file(served, "cyan.png")
    assert response.status_code == 200
    assert response.content == (served.folder / "cyan.png").read_bytes()
    assert response.headers["content-type"] == "image/png"
    member = get_file(served, "orange.png")
    assert member.status_code == 200
    with zipfile.ZipFile(served.folder / "pack.zip") as archive:
        assert member.content == archive.read("orange.png")


def test_a_file_swapped_for_a_link_elsewhere_is_not_followed(served):
    image_id = served.ids["red.png"]
    (served.folder / "red.png").unlink()
    (served.folder / "red.png").symlink_to(served.folder.parent / "secret.txt")
    response = get_file(served, "red.png")
    assert response.status_code == 409
    assert SECRET not in response.content and b"root:" not in response.content
    body = response.json()
    assert body["error"] == "file_changed" and body["parameter"] == "id"
    assert "no longer match the indexed SHA-256" in body["message"]
    assert f"/api/images/{image_id}/thumb" in body["message"]
    assert served.get(f"/api/images/{image_id}/thumb").status_code == 200


def test_a_link_to_another_image_is_refused_too(served):
    (served.folder / "purple.png").unlink()
    (served.folder / "purple.png").symlink_to(served.folder / "cyan.png")
    response = get_file(served, "purple.png")
    assert response.status_code == 409
    assert (served.folder / "cyan.png").read_bytes() not in response.content


def test_a_file_edited_in_place_answers_409(served):
    Image.new("RGB", (64, 64), "black").save(served.folder / "green.png")
    response = get_file(served, "green.png")
    assert response.status_code == 409 and response.json()["error"] == "file_changed"


def test_a_zip_replaced_by_another_with_the_same_member_answers_409(served):
    with zipfile.ZipFile(served.folder / "swap.zip", "w") as archive:
        archive.writestr("pink.png", SECRET)
    response = get_file(served, "pink.png")
    assert response.status_code == 409 and SECRET not in response.content


def test_a_fifo_in_the_files_place_does_not_hang(served):
    (served.folder / "blue.png").unlink()
    os.mkfifo(served.folder / "blue.png")
    response = get_file(served, "blue.png")
    assert response.status_code == 409


def test_a_removed_file_answers_410(served):
    image_id = served.ids["yellow.png"]
    (served.folder / "yellow.png").unlink()
    response = get_file(served, "yellow.png")
    assert response.status_code == 410
    body = response.json()
    assert body["error"] == "file_gone" and body["parameter"] == "id"
    assert "no longer where it was indexed (moved or deleted)" in body["message"]
    assert f"/api/images/{image_id}/thumb" in body["message"]
    assert json.loads(response.content) == body
