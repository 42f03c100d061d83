"""Captioning after indexing: a model error on one image fails that image alone, and the index
run still ends with its summary and report."""

from __future__ import annotations

import json

import pytest
from PIL import Image
from typer.testing import CliRunner

from cli.main import app
from indexer.captions import caption_missing
from picsift.models.runtime import Runtime
from picsift.store.edge import EdgeStore
from tests.indexer.conftest import shape_images
from tests.models.test_captioner import FailsOnGreen

runner = CliRunner()
GREEN = (0, 255, 0)


def _folder(path, flat_colours) -> None:
    """Toy shapes, and flat single-colour images (the toy model never ends their captions)."""
    path.mkdir()
    for i, (img, _, _) in enumerate(shape_images(4, seed=11)):
        img.save(path / f"shape{i}.png")
    for i, colour in enumerate(flat_colours):
        Image.new("RGB", (200, 200), colour).save(path / f"flat{i}.png")


def _index(store, folder, *flags: str):
    report = store.parent / "report.json"
    argv = ["--store", str(store), "--model", "toy", "index", str(folder), *flags]
    result = runner.invoke(app, [*argv, "--report", str(report)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(report.read_text()), result.output


def test_index_captions_a_flat_image_and_writes_its_report(tmp_path, monkeypatch):
    monkeypatch.setenv("PICSIFT_CAPTION_MODEL", "toy")
    _folder(tmp_path / "in", [(220, 30, 30)])
    report, output = _index(tmp_path / "store", tmp_path / "in")
    assert report["new"] == 5
    assert "captions: 5 written, 0 failed" in output
    result = runner.invoke(app, ["--store", str(tmp_path / "store"), "caption"])
    assert result.exit_code == 0 and "captions: 0 written, 0 failed" in result.output


def test_a_model_error_leaves_one_image_uncaptioned_with_its_reason(tmp_path):
    _folder(tmp_path / "in", [(220, 30, 30), GREEN, (30, 30, 220)])
    _index(tmp_path / "store", tmp_path / "in", "--no-captions")
    captioner = FailsOnGreen("toy", runtime=Runtime("cpu", "fp32", "test"), batch_size=4)
    with EdgeStore(tmp_path / "store") as store:
        written, failed = caption_missing(store, captioner, tmp_path / "store")
        rows = {r.id: r.payload for r in store.images.scroll()}
    green = [i for i, p in rows.items() if p["files"][0]["path"].endswith("flat1.png")]
    assert (written, failed) == (
        6,
        [(green[0], "captioning failed: RuntimeError: CUDA out of memory")],
    )
    assert all(p["caption"] for i, p in rows.items() if i != green[0])
    assert not rows[green[0]]["caption"]


def test_a_caption_job_stopped_midway_keeps_the_captions_it_made(tmp_path):
    from picsift.models.captioner import Captioner
    from picsift.store import Filter, IsEmpty

    store = tmp_path / "store"
    _index(store, _make(tmp_path), "--no-captions")

    class Stop(Exception):
        pass

    def stop_after_three(stage, done, total):
        if done == 3:
            raise Stop  # as a job raises when the server stops, between two images

    captioner = Captioner("toy", runtime=Runtime("cpu", "fp32", "test"), batch_size=8)
    with EdgeStore(store) as opened:
        with pytest.raises(Stop):
            caption_missing(opened, captioner, store, progress=stop_after_three)
        captioned = opened.images.count(Filter(must_not=(IsEmpty("caption"),)))
    assert captioned == 3


def _make(tmp_path):
    folder = tmp_path / "media"
    _folder(folder, [])
    return folder
