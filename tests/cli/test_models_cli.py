"""`picsift models` (#22): the known models with their published vector sizes and languages,
the configured and the store's model marked, a folder's kind and size read from its config,
and whether each model's files are on this machine."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli.main import app
from tests.models.siglip_tiny import HIDDEN, tiny_siglip


def test_models_lists_the_known_and_the_configured(tmp_path):
    folder = tiny_siglip(tmp_path / "siglip", "gemma")
    runner = CliRunner()
    base = ["--store", str(tmp_path / "store"), "--model", str(folder)]
    listed = runner.invoke(app, [*base, "models", "--json"])
    assert listed.exit_code == 0, listed.output
    body = json.loads(listed.output)
    assert body["configured"] == str(folder) and body["store"] is None
    rows = {row["name"]: row for row in body["models"]}
    assert rows[str(folder)] | {"languages": None} == {
        "name": str(folder),
        "kind": "SigLIP",
        "dim": HIDDEN,
        "languages": None,
        "role": "images and texts",
        "here": True,
    }
    assert rows["clip-ViT-B-32"]["dim"] == 512  # published; `here` depends on the hub cache
    assert rows["google/siglip2-base-patch16-224"]["languages"].startswith("multilingual")
    assert rows["toy"]["here"] is True
    assert not (tmp_path / "store").exists()  # listing makes no store

    text = runner.invoke(app, [*base, "models"]).output
    assert f"{folder} [configured]\n    SigLIP, {HIDDEN}-d, images and texts; files here" in text


def test_models_marks_the_stores_model(tmp_path):
    from picsift.models.toy import sample

    media = tmp_path / "media"
    media.mkdir()
    for i, (image, _, _) in enumerate(sample(3, seed=1)):
        image.save(media / f"{i}.png")
    runner = CliRunner()
    base = ["--store", str(tmp_path / "store"), "--model", "toy"]
    assert runner.invoke(app, [*base, "index", str(media), "--no-captions"]).exit_code == 0
    text = runner.invoke(app, ["--store", str(tmp_path / "store"), "models"]).output
    assert "toy [the store's]\n    CLIP, 64-d, images and texts; files here" in text
