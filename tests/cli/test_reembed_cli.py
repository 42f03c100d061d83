"""`picsift reembed MODEL` from the command line: the store indexed with one model searches
with the other afterwards, and the command says what it did and what is left to do."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli.main import app
from picsift.errors import StoreError
from picsift.models.toy import sample
from tests.models.siglip_tiny import HIDDEN, tiny_siglip


def test_reembed_switches_the_store_and_says_what_is_left(tmp_path):
    checkpoint = tiny_siglip(tmp_path / "siglip", "gemma")
    media = tmp_path / "media"
    media.mkdir()
    for i, (image, _, _) in enumerate(sample(5, seed=9)):
        image.save(media / f"{i}.png")
    store = ["--store", str(tmp_path / "store")]
    runner = CliRunner()
    indexed = runner.invoke(app, [*store, "--model", "toy", "index", str(media), "--no-captions"])
    assert indexed.exit_code == 0, indexed.output
    kept = runner.invoke(app, [*store, "--model", "toy", "selections", "save", "all"])
    assert kept.output.startswith("saved all  5 images"), kept.output

    done = runner.invoke(app, [*store, "--model", "toy", "reembed", str(checkpoint)])

    assert done.exit_code == 0, done.output
    assert "re-embedded 5 images with" in done.output and "(was toy); 0 from their" in done.output
    assert "PICSIFT_MODEL is set to toy" in done.output
    found = runner.invoke(app, [*store, "search", "red circle", "--mode", "image", "--json"])
    assert found.exit_code == 0, found.output
    assert len(json.loads(found.output)["hits"]) == 5
    # A saved selection holds ids, no vectors: the re-embedded store keeps it as it was.
    shown = runner.invoke(app, [*store, "selections", "show", "all", "--json"])
    assert shown.exit_code == 0, shown.output
    assert (json.loads(shown.output)["present"], json.loads(shown.output)["model"]) == (5, "toy")
    listed = runner.invoke(app, [*store, "models", "--json"])
    assert json.loads(listed.output)["store"] == str(checkpoint.resolve())
    row = next(r for r in json.loads(listed.output)["models"] if r["name"] == str(checkpoint))
    assert row["dim"] == HIDDEN
    again = runner.invoke(app, [*store, "reembed", str(checkpoint)])
    assert isinstance(again.exception, StoreError) and "already" in str(again.exception)
