"""`picsift tag`: zero-shot tags from the stored vectors, with the toy model."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.main import app
from picsift.errors import InputError
from picsift.models.encoder import ClipEncoder
from picsift.models.runtime import Runtime
from picsift.models.toy import COLORS, SHAPES, sample
from picsift.store.base import PointData
from picsift.store.edge import EdgeStore
from tests.conftest import point_id

runner = CliRunner()


@pytest.fixture(scope="module")
def shapes():
    return sample(240, seed=77)


@pytest.fixture
def toy_store(tmp_path, shapes):
    encoder = ClipEncoder("toy", runtime=Runtime("cpu", "fp32", "test"))
    vectors = encoder.embed_images([img for img, _, _ in shapes])
    with EdgeStore(tmp_path / "store") as store:
        store.ensure("toy", encoder.dim)
        store.images.upsert(
            [
                PointData(point_id(i), vectors[i], {"truth": f"{c} {s}", "tags": ["stale"]})
                for i, (_, c, s) in enumerate(shapes)
            ]
        )
    return tmp_path / "store"


def test_tags_follow_the_image_content(toy_store, tmp_path):
    codebook = tmp_path / "codebook.txt"
    labels = [f"{c} {s}" for c in COLORS for s in SHAPES]
    codebook.write_text("# shapes\n" + "\n".join(labels) + "\n\nred circle\n")
    result = runner.invoke(app, ["--store", str(toy_store), "tag", str(codebook), "--top-k", "1"])
    assert result.exit_code == 0, result.output
    assert "tagged 240 images with 12 labels" in result.output
    with EdgeStore(toy_store) as store:
        records = list(store.images.scroll())
    right = sum(r.payload["tags"] == [r.payload["truth"]] for r in records)
    assert right / len(records) >= 0.9
    assert all(len(r.payload["tag_scores"]) == len(r.payload["tags"]) for r in records)
    assert all(m > 0 for r in records for m in r.payload["tag_scores"])


def test_absent_labels_are_not_applied_and_present_ones_are(toy_store, tmp_path, shapes):
    """A softmax over `red / blue / tractor` put "tractor" on 102 of 240 shapes; calibrated
    edges keep labels that describe nothing off (<= 2%) and real ones on (>= 95%)."""
    codebook = tmp_path / "codebook.txt"
    codebook.write_text("red circle\nblue square\ntractor\nhelicopter\n")
    result = runner.invoke(app, ["--store", str(toy_store), "tag", str(codebook)])
    assert result.exit_code == 0, result.output
    assert "meaningless queries" in result.output and "(edge " in result.output
    with EdgeStore(toy_store) as store:
        records = list(store.images.scroll())
    assert {r.payload["tags"] == ["stale"] for r in records} == {False}
    for absent in ("tractor", "helicopter"):
        assert sum(absent in r.payload["tags"] for r in records) <= 0.02 * len(records)
    for present in ("red circle", "blue square"):
        truth = [r for r in records if r.payload["truth"] == present]
        assert len(truth) >= 15
        assert sum(present in r.payload["tags"] for r in truth) >= 0.95 * len(truth)
        others = [r for r in records if r.payload["truth"] != present]
        assert sum(present in r.payload["tags"] for r in others) <= 0.02 * len(others)
    run = json.loads((toy_store / "tags.json").read_text())
    assert [label["label"] for label in run["labels"]] == [
        "red circle",
        "blue square",
        "tractor",
        "helicopter",
    ]
    assert run["labels"][2]["images"] == sum("tractor" in r.payload["tags"] for r in records)


def test_a_high_margin_clears_old_tags(toy_store, tmp_path):
    codebook = tmp_path / "codebook.txt"
    codebook.write_text("red circle\nflag\n")
    result = runner.invoke(
        app, ["--store", str(toy_store), "tag", str(codebook), "--min-margin", "2"]
    )
    assert result.exit_code == 0, result.output
    with EdgeStore(toy_store) as store:
        assert all(r.payload["tags"] == [] for r in store.images.scroll())


def test_too_few_images_to_calibrate_is_refused(tmp_path, shapes):
    encoder = ClipEncoder("toy", runtime=Runtime("cpu", "fp32", "test"))
    vectors = encoder.embed_images([img for img, _, _ in shapes[:20]])
    with EdgeStore(tmp_path / "small") as store:
        store.ensure("toy", encoder.dim)
        store.images.upsert([PointData(point_id(i), v, {}) for i, v in enumerate(vectors)])
    codebook = tmp_path / "c.txt"
    codebook.write_text("a\nb\n")
    with pytest.raises(InputError, match="at least 50 images"):
        runner.invoke(
            app, ["--store", str(tmp_path / "small"), "tag", str(codebook)], catch_exceptions=False
        )


def test_bad_codebooks_are_named(tmp_path, toy_store):
    one = tmp_path / "one.txt"
    one.write_text("only\n")
    with pytest.raises(InputError, match=r"codebook .*one.txt needs at least two labels"):
        runner.invoke(app, ["--store", str(toy_store), "tag", str(one)], catch_exceptions=False)
    with pytest.raises(InputError, match="cannot read codebook"):
        runner.invoke(
            app,
            ["--store", str(toy_store), "tag", str(tmp_path / "missing.txt")],
            catch_exceptions=False,
        )
    two = tmp_path / "two.txt"
    two.write_text("a\nb\n")
    with pytest.raises(InputError, match="--prompt"):
        runner.invoke(
            app,
            ["--store", str(toy_store), "tag", str(two), "--prompt", "photo"],
            catch_exceptions=False,
        )


def test_tag_on_an_empty_store_says_what_to_do(tmp_path):
    codebook = tmp_path / "c.txt"
    codebook.write_text("a\nb\n")
    result = runner.invoke(app, ["--store", str(tmp_path / "empty"), "tag", str(codebook)])
    assert "picsift index" in str(result.exception)
