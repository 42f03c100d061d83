"""File names that are not UTF-8 (`b'bad\\xff.jpg'`): indexed like any other file, stored and
shown in a printable form, found again by their exact bytes, never ending the run."""

from __future__ import annotations

import json
import os

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from cli.main import app
from picsift.settings import Settings
from picsift.store.edge import EdgeStore

runner = CliRunner()
BAD = b"bad\xff.jpg"

pytestmark = pytest.mark.skipif(
    os.uname().sysname == "Darwin", reason="macOS file systems refuse names that are not UTF-8"
)


def index(store, folder):
    report = store.parent / "report.json"
    argv = ["--store", str(store), "--model", "toy", "index", str(folder), "--no-captions"]
    result = runner.invoke(app, [*argv, "--report", str(report)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(report.read_text())


def test_a_name_that_is_not_utf8_is_indexed_with_the_rest(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    Image.new("RGB", (64, 64), "red").save(folder / "good.jpg")
    Image.new("RGB", (64, 64), "blue").save(folder / "tmp.jpg")
    os.rename(folder / "tmp.jpg", os.fsencode(folder) + b"/" + BAD)
    # A file whose name prints the same way must stay a file of its own.
    Image.new("RGB", (64, 64), "green").save(folder / "bad\\xff.jpg")
    store = tmp_path / "store"

    report = index(store, folder)
    assert (report["found"], report["new"], report["failed"]) == (3, 3, [])
    again = index(store, folder)
    assert (again["new"], again["known"]) == (0, 3)

    with EdgeStore(store) as s:
        records = list(s.images.scroll())
    files = sorted((f for r in records for f in r.payload["files"]), key=lambda f: f["path"])
    assert len(files) == 3
    bad = [f for f in files if f.get("path_hex")]
    assert len(bad) == 1 and bad[0]["path"].endswith("/bad\\xff.jpg")
    assert bytes.fromhex(bad[0]["path_hex"]) == os.fsencode(folder) + b"/" + BAD

    settings = Settings(store=str(store), caption_model="none", model="toy")
    from search.app import create_app

    with TestClient(create_app(settings)) as client:
        bad_id = next(r.id for r in records if r.payload["files"][0].get("path_hex"))
        response = client.get(f"/api/images/{bad_id}/file")
        assert response.status_code == 200
        assert response.content == (folder / os.fsdecode(BAD)).read_bytes()
        detail = client.get(f"/api/images/{bad_id}").json()
        assert detail["files"][0]["name"] == "bad\\xff.jpg"
