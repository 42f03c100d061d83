"""OCR as an enrichment phase of `picsift index` (PICSIFT_OCR=1) and as `picsift ocr`, through
the CLI on an embedded store: generated covers with German and English overlay text, their
text stored as the `ocr` payload (read from the originals), found by the keyword filter; a
store indexed without OCR is read later by `picsift ocr`, from the thumbnails once the
originals are gone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from cli.main import app
from picsift.store import Filter, Text
from picsift.store.edge import EdgeStore
from tests.ocr_images import background, overlay

runner = CliRunner()
COVERS = {
    "traktor.png": ("Traktor Blockade in Berlin", "outline"),
    "bruecke.png": ("Größte Straße über der Brücke", "box"),
    "speech.png": ("Free speech matters", "plain"),
}


def write_covers(folder: Path) -> None:
    folder.mkdir()
    for n, (name, (text, style)) in enumerate(COVERS.items()):
        picture = background(np.random.default_rng(n), 720, 1280)
        overlay(picture, text, style, 44, 300 + 200 * n).save(folder / name)
    background(np.random.default_rng(9), 720, 1280).save(folder / "no-text.png")


def cli(store: Path, *argv: str, **env: str):
    result = runner.invoke(app, ["--store", str(store), "--model", "toy", *argv], env=env)
    assert result.exit_code == 0, result.output
    return result


def ocr_by_file(store: Path) -> dict[str, dict]:
    with EdgeStore(store) as s:
        return {
            Path(r.payload["files"][0]["path"]).name: r.payload.get("ocr")
            for r in s.images.scroll(with_payload=["files", "ocr"])
        }


def found(store: Path, words: str) -> set[str]:
    with EdgeStore(store) as s:
        flt = Filter(must=(Text("ocr.text", words),))
        return {
            Path(r.payload["files"][0]["path"]).name
            for r in s.images.scroll(flt, with_payload=["files"])
        }


def test_index_reads_the_text_of_new_images(tmp_path):
    write_covers(tmp_path / "covers")
    store = tmp_path / "store"
    report = tmp_path / "report.json"
    out = cli(store, "index", str(tmp_path / "covers"), "--no-captions", "--report", str(report),
              PICSIFT_OCR="1")  # fmt: skip
    assert "ocr: 4 images read, 0 failed" in out.output
    assert json.loads(report.read_text())["ocr"] == {"written": 4, "failed": []}
    read = ocr_by_file(store)
    for name, (text, _) in COVERS.items():
        assert read[name]["text"] == text, name
        assert read[name]["source"] == "original" and read[name]["confidence"] >= 70
        assert read[name]["languages"] == "deu+eng" and read[name]["min_confidence"] == 70
    assert (read["no-text.png"]["text"], read["no-text.png"]["confidence"]) == ("", None)
    assert found(store, "Traktor") == {"traktor.png"}
    assert found(store, "Straße") == {"bruecke.png"}


def test_ocr_reads_a_store_indexed_without_it_and_falls_back_to_thumbnails(tmp_path):
    write_covers(tmp_path / "covers")
    store = tmp_path / "store"
    cli(store, "index", str(tmp_path / "covers"), "--no-captions")
    assert set(ocr_by_file(store).values()) == {None}
    (tmp_path / "covers" / "speech.png").unlink()  # gone: its thumbnail is read
    out = cli(store, "ocr")
    assert "ocr: 4 images read, 0 failed" in out.output
    read = ocr_by_file(store)
    assert read["speech.png"]["source"] == "thumbnail"
    assert read["speech.png"]["text"] == "Free speech matters"
    assert read["traktor.png"]["source"] == "original"
    again = cli(store, "ocr")
    assert "ocr: 0 images read" in again.output  # nothing left: resumable, not repeated


def test_ocr_with_a_language_not_installed_says_which_package(tmp_path):
    store = tmp_path / "store"
    result = runner.invoke(
        app, ["--store", str(store), "ocr"], env={"PICSIFT_OCR_LANGUAGES": "fra"}
    )
    assert result.exit_code == 1
    assert "apt install tesseract-ocr-fra" in result.output


def test_the_text_is_in_the_detail_the_keyword_filter_and_the_export(tmp_path):
    from fastapi.testclient import TestClient

    from picsift.settings import Settings
    from search.app import create_app

    write_covers(tmp_path / "covers")
    store = tmp_path / "store"
    cli(store, "index", str(tmp_path / "covers"), "--no-captions", PICSIFT_OCR="1")
    settings = Settings(store=str(store), model="toy", caption_model="none")
    with EdgeStore(store) as opened, TestClient(create_app(settings, store=opened)) as client:
        hits = client.get("/api/search", params={"text": "Traktor", "limit": 10}).json()["hits"]
        assert len(hits) == 1
        detail = client.get(f"/api/images/{hits[0]['id']}").json()
        assert detail["ocr"]["text"] == "Traktor Blockade in Berlin"
        assert detail["ocr"]["source"] == "original"
        export = client.get("/api/export", params={"format": "ndjson", "limit": 10})
        rows = [json.loads(line) for line in export.text.splitlines()]
        texts = {row["ocr_text"] for row in rows}
        assert {text for text, _ in COVERS.values()} | {""} == texts
