"""OCR as an enrichment phase of `picsift index` (PICSIFT_OCR=1) and as `picsift ocr`, through
the CLI on an embedded store: generated covers with German and English overlay text, their
text stored as the `ocr` payload (read from the originals), found by the keyword filter; a
store indexed without OCR is read later by `picsift ocr`, from the thumbnails once the
originals are gone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cli.main import app
from picsift.errors import ModelUnavailableError
from picsift.store import Filter, Text
from picsift.store.edge import EdgeStore
from tests.ocr_images import COVERS, background, overlay, write_covers

runner = CliRunner()


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
    (tmp_path / "media").mkdir()
    background(np.random.default_rng(0), 64, 64).save(tmp_path / "media" / "a.png")
    store = tmp_path / "store"
    cli(store, "index", str(tmp_path / "media"), "--no-captions")
    result = runner.invoke(
        app, ["--store", str(store), "ocr"], env={"PICSIFT_OCR_LANGUAGES": "fra"}
    )
    assert isinstance(result.exception, ModelUnavailableError)  # `picsift` prints it, exits 2
    assert "apt install tesseract-ocr-fra" in str(result.exception)
    assert ocr_by_file(store) == {"a.png": None}


def test_an_ocr_job_reads_the_text_shown_in_the_detail_filter_and_export(tmp_path):
    from fastapi.testclient import TestClient

    from picsift.settings import Settings
    from search.app import create_app
    from tests.search.test_api_jobs import wait

    write_covers(tmp_path / "covers")
    store = tmp_path / "store"
    cli(store, "index", str(tmp_path / "covers"), "--no-captions")
    settings = Settings(store=str(store), model="toy", caption_model="none")
    with EdgeStore(store) as opened, TestClient(create_app(settings, store=opened)) as client:
        assert client.get("/api/search", params={"text": "Traktor"}).json()["hits"] == []
        job = wait(client, client.post("/api/jobs/ocr").json()["url"])
        assert (job["state"], job["kind"]) == ("done", "ocr")
        assert job["params"] == {"languages": "deu+eng"}
        # The text of three changed (no-text.png still has none): their text vectors anew.
        text = {"written": 3, "failed": []}
        assert job["result"] == {"written": 4, "failed": [], "text": text}
        assert client.get("/api/status").json()["text_read"] == 4
        hits = client.get("/api/search", params={"text": "Traktor", "limit": 10}).json()["hits"]
        assert len(hits) == 1
        detail = client.get(f"/api/images/{hits[0]['id']}").json()
        assert detail["ocr"]["text"] == "Traktor Blockade in Berlin"
        assert detail["ocr"]["source"] == "original"
        export = client.get("/api/export", params={"format": "ndjson", "limit": 10})
        rows = [json.loads(line) for line in export.text.splitlines()]
        texts = {row["ocr_text"] for row in rows}
        assert {text for text, _ in COVERS.values()} | {""} == texts
        again = wait(client, client.post("/api/jobs/ocr").json()["url"])
        assert again["result"] == {"written": 0, "failed": [], "text": {"written": 0, "failed": []}}


def test_an_ocr_job_without_the_languages_is_refused_naming_the_package(tmp_path):
    from fastapi.testclient import TestClient

    from picsift.settings import Settings
    from search.app import create_app

    settings = Settings(store=str(tmp_path / "store"), model="toy", ocr_languages="deu+fra")
    with (
        EdgeStore(tmp_path / "store") as opened,
        TestClient(create_app(settings, store=opened)) as client,
    ):
        refused = client.post("/api/jobs/ocr")
        assert refused.status_code == 503
        assert "apt install tesseract-ocr-fra" in refused.json()["message"]
        assert client.get("/api/jobs").json()["jobs"] == []


def write_text_video(path: Path) -> Path:
    """A 720x1280 TikTok-like video: one caption for 3 s, a cut, another for 3 s (their text
    is too small in a 256-px thumbnail to read, plain in the video)."""
    import av

    texts = list(COVERS.values())[:2]
    stills = [
        np.asarray(overlay(background(np.random.default_rng(n), 720, 1280), text, style, 44, 500))
        for n, (text, style) in enumerate(texts)
    ]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=5)
        stream.width, stream.height, stream.pix_fmt = 720, 1280, "yuv420p"
        for n in range(30):
            frame = av.VideoFrame.from_ndarray(stills[n // 15], format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def frame_texts(store: Path) -> dict[float, dict]:
    with EdgeStore(store) as s:
        return {
            r.payload["frame_time"]: r.payload["ocr"]
            for r in s.images.scroll(with_payload=["frame_time", "ocr"])
        }


def test_video_frames_are_read_from_the_video_at_full_size(tmp_path):
    (tmp_path / "videos").mkdir()
    video = write_text_video(tmp_path / "videos" / "7001.mp4")
    store = tmp_path / "store"
    out = cli(store, "index", str(tmp_path / "videos"), "--no-captions", PICSIFT_OCR="1")
    assert "ocr: 2 images read, 0 failed" in out.output
    read = frame_texts(store)
    assert sorted(read) == [0.0, 3.0]
    assert (read[0.0]["text"], read[0.0]["source"]) == ("Traktor Blockade in Berlin", "original")
    assert (read[3.0]["text"], read[3.0]["source"]) == ("Größte Straße über der Brücke", "original")
    assert found(store, "Brücke") == {"7001.mp4"}

    # The video changed since it was indexed: it is not the frames' video any more, so the
    # thumbnails are read (and say so), however little they show.
    video.write_bytes(video.read_bytes()[:-1000])
    with EdgeStore(store) as s:
        s.images.set_payloads([(r.id, {"ocr": None}) for r in s.images.scroll()])
    cli(store, "ocr")
    assert {o["source"] for o in frame_texts(store).values()} == {"thumbnail"}


@pytest.mark.slow
def test_ocr_beside_a_server_runs_there_as_a_job(tmp_path):
    from tests.search.test_serve import serving

    write_covers(tmp_path / "covers")
    store = tmp_path / "store"
    cli(store, "index", str(tmp_path / "covers"), "--no-captions")
    with serving(store, tmp_path, {"PICSIFT_CAPTION_MODEL": "none"}) as (url, _):
        out = cli(store, "ocr")
    assert f"picsift serve at {url}: ocr there as job " in out.output
    assert "ocr: 4 images read, 0 failed" in out.output
    assert {o["source"] for o in ocr_by_file(store).values()} == {"original"}
