"""`picsift tag`: zero-shot tags from the stored vectors, with the toy model."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from picsift.cli.main import app
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
    return sample(60, seed=77)


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
    result = runner.invoke(
        app, ["--store", str(toy_store), "tag", str(codebook), "--top-k", "1", "--threshold", "0"]
    )
    assert result.exit_code == 0, result.output
    assert "tagged 60 images with 12 labels" in result.output
    with EdgeStore(toy_store) as store:
        records = list(store.images.scroll())
    right = sum(r.payload["tags"] == [r.payload["truth"]] for r in records)
    assert right / len(records) >= 0.9
    assert all(len(r.payload["tag_scores"]) == 1 for r in records)


def test_high_threshold_clears_old_tags(toy_store, tmp_path):
    codebook = tmp_path / "codebook.txt"
    codebook.write_text("tractor\nflag\n")
    result = runner.invoke(
        app, ["--store", str(toy_store), "tag", str(codebook), "--threshold", "1"]
    )
    assert result.exit_code == 0, result.output
    with EdgeStore(toy_store) as store:
        assert all(r.payload["tags"] == [] for r in store.images.scroll())


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
