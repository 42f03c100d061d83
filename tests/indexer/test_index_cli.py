"""`picsift index` end to end on 4CAT-style corpora with the toy model."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from cli.main import app
from picsift.store.edge import EdgeStore
from picsift.thumbs import thumb_path
from tests.indexer.conftest import DATASET, index, post_id, write_4cat_zip, write_tiktok_csv

runner = CliRunner()


def records(store) -> list:
    with EdgeStore(store) as s:
        return list(s.images.scroll())


def test_zip_and_csv_together(tmp_path):
    images = write_4cat_zip(tmp_path / "images.zip", 6)
    write_tiktok_csv(tmp_path / "tiktok.csv", 8, images)
    report = index(tmp_path / "store", tmp_path / "images.zip", tmp_path / "tiktok.csv")
    assert (report["found"], report["new"], report["known"]) == (6, 6, 0)
    assert report["posts_linked"] == 7  # 6 images, the last one used by 2 posts
    assert report["posts_without_media"] == 1
    assert report["failed"] == []
    by_post = {
        p["post_id"]: (r, p) for r in records(tmp_path / "store") for p in r.payload["posts"]
    }
    record, post = by_post[post_id(2)]
    assert post["dataset"] == DATASET  # the table took the archive's 4CAT key
    assert post["author"] == "user2" and post["ts"] == 1_700_000_000 + 2 * 86_400
    assert post["url"] == f"https://www.tiktok.com/@user2/video/{post_id(2)}"
    assert post["extra"]["Transcript"] == "transcript 2"
    assert record.payload["datasets"] == [DATASET]
    assert record.payload["width"] == 160 and record.payload["format"] == "jpeg"
    assert record.payload["files"][0]["member"] == f"{post_id(2)}.jpeg"
    shared, _ = by_post[post_id(6)]
    assert shared.payload["n_posts"] == 2 and by_post[post_id(5)][0].id == shared.id
    for r in records(tmp_path / "store"):
        assert thumb_path(tmp_path / "store", r.payload["sha256"]).exists()


def test_rerun_adds_nothing(tmp_path):
    write_4cat_zip(tmp_path / "images.zip", 5)
    index(tmp_path / "store", tmp_path / "images.zip")
    before = records(tmp_path / "store")
    report = index(tmp_path / "store", tmp_path / "images.zip")
    assert (report["new"], report["known"]) == (0, 5)
    after = records(tmp_path / "store")
    assert [r.payload for r in after] == [r.payload for r in before]


def test_table_first_then_archive(tmp_path):
    write_tiktok_csv(tmp_path / "tiktok.csv", 4)
    report = index(tmp_path / "store", tmp_path / "tiktok.csv")
    assert (report["found"], report["posts_without_media"]) == (0, 4)
    write_4cat_zip(tmp_path / "images.zip", 4, shared=False)
    report = index(tmp_path / "store", tmp_path / "images.zip")
    assert report["new"] == 4
    posts = [p for r in records(tmp_path / "store") for p in r.payload["posts"]]
    assert sorted(p["author"] for p in posts) == ["user0", "user0", "user1", "user2"]
    assert {p["dataset"] for p in posts} == {DATASET}


def test_archive_first_then_table(tmp_path):
    write_4cat_zip(tmp_path / "images.zip", 4, shared=False)
    index(tmp_path / "store", tmp_path / "images.zip")
    assert all(p["author"] == "" for r in records(tmp_path / "store") for p in r.payload["posts"])
    write_tiktok_csv(tmp_path / "tiktok.csv", 5)
    report = index(tmp_path / "store", tmp_path / "tiktok.csv")
    assert (report["posts_linked"], report["posts_without_media"]) == (4, 1)
    posts = [p for r in records(tmp_path / "store") for p in r.payload["posts"]]
    assert len(posts) == 4 and all(p["author"].startswith("user") for p in posts)
    assert all(p["dataset"] == DATASET for p in posts)


def test_same_image_in_two_datasets_is_one_point(tmp_path):
    write_4cat_zip(tmp_path / "a.zip", 3, shared=False)
    write_4cat_zip(tmp_path / "b.zip", 3, shared=False)
    index(tmp_path / "store", tmp_path / "a.zip", "--dataset", "scrape-1")
    report = index(tmp_path / "store", tmp_path / "b.zip", "--dataset", "scrape-2")
    assert (report["new"], report["known"]) == (0, 3)
    for r in records(tmp_path / "store"):
        assert r.payload["datasets"] == ["scrape-1", "scrape-2"]
        assert r.payload["n_posts"] == 2 and len(r.payload["files"]) == 2


def test_status_and_remove_dataset(tmp_path):
    write_4cat_zip(tmp_path / "a.zip", 3, shared=False)
    write_4cat_zip(tmp_path / "b.zip", 5, shared=False)
    index(tmp_path / "store", tmp_path / "a.zip", "--dataset", "keep")
    index(tmp_path / "store", tmp_path / "b.zip", "--dataset", "takedown")
    status = json.loads(
        runner.invoke(app, ["--store", str(tmp_path / "store"), "status", "--json"]).output
    )
    assert status["images"] == 5 and status["datasets"] == {"keep": 3, "takedown": 5}
    gone = [r for r in records(tmp_path / "store") if r.payload["datasets"] == ["takedown"]]
    result = runner.invoke(
        app, ["--store", str(tmp_path / "store"), "remove", "--dataset", "takedown"]
    )
    assert "2 images deleted, 3 kept" in result.output
    left = records(tmp_path / "store")
    assert len(left) == 3 and all(r.payload["datasets"] == ["keep"] for r in left)
    assert all(p["dataset"] == "keep" for r in left for p in r.payload["posts"])
    assert not any(thumb_path(tmp_path / "store", r.payload["sha256"]).exists() for r in gone)


def test_search_works_on_indexed_vectors(tmp_path, toy_encoder):
    images = write_4cat_zip(tmp_path / "images.zip", 24, seed=11)
    index(tmp_path / "store", tmp_path / "images.zip")
    query = toy_encoder.embed_texts(["red circle"])[0]
    with EdgeStore(tmp_path / "store") as store:
        hits = store.images.query(query, limit=3)
    truth = {post_id(i): (c, s) for i, (_, c, s) in enumerate(images)}
    reds = sum(c == "red" and s == "circle" for _, c, s in images)
    assert reds >= 1
    top = truth[hits[0].payload["posts"][0]["post_id"]]
    assert top == ("red", "circle")
    assert np.isclose(hits[0].score, max(h.score for h in hits))


@pytest.mark.parametrize("missing", ["nothing-here.zip"])
def test_missing_source_is_a_clear_error(tmp_path, missing):
    result = runner.invoke(app, ["--store", str(tmp_path / "s"), "index", str(tmp_path / missing)])
    assert result.exit_code != 0
    assert "does not exist" in str(result.exception)


def test_a_path_as_dataset_name_is_refused(tmp_path):
    write_4cat_zip(tmp_path / "images.zip", 2, seed=3)
    argv = ["--store", str(tmp_path / "s"), "--model", "toy", "index", str(tmp_path / "images.zip")]
    result = runner.invoke(app, [*argv, "--dataset", "../x"])
    assert result.exit_code != 0 and "is not a dataset name" in str(result.exception)


def test_a_run_that_read_nothing_exits_non_zero(tmp_path):
    """An unreadable zip as the only source is a failed run; beside a good source it is not."""
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 cut short")
    write_4cat_zip(tmp_path / "good.zip", 2, seed=4)
    argv = ["--store", str(tmp_path / "s"), "--model", "toy", "index", "--no-captions"]
    alone = runner.invoke(app, [*argv, str(tmp_path / "broken.zip")])
    assert alone.exit_code != 0 and "nothing could be read" in str(alone.exception)
    both = runner.invoke(app, [*argv, str(tmp_path / "broken.zip"), str(tmp_path / "good.zip")])
    assert both.exit_code == 0 and "1 failed" in both.output, both.output


def test_captions_after_indexing_and_caption_command(tmp_path, monkeypatch):
    monkeypatch.setenv("PICSIFT_CAPTION_MODEL", "toy")
    images = write_4cat_zip(tmp_path / "images.zip", 8, seed=21, shared=False)
    argv = ["--store", str(tmp_path / "store"), "--model", "toy", "index"]
    report = tmp_path / "report.json"
    result = runner.invoke(
        app, [*argv, str(tmp_path / "images.zip"), "--report", str(report)], catch_exceptions=False
    )
    assert "captions: 8 written, 0 failed" in result.output
    assert json.loads(report.read_text())["captions"] == {"written": 8, "failed": []}
    truth = {post_id(i): f"a {c} {s}" for i, (_, c, s) in enumerate(images)}
    rows = records(tmp_path / "store")
    right = sum(r.payload["caption"] == truth[r.payload["posts"][0]["post_id"]] for r in rows)
    assert right >= 5
    with EdgeStore(tmp_path / "store") as store:
        store.images.set_payload([rows[0].id], {"caption": None})
    result = runner.invoke(app, ["--store", str(tmp_path / "store"), "caption"])
    assert "captions: 1 written" in result.output
    assert all(r.payload["caption"] for r in records(tmp_path / "store"))


def test_index_captions_every_image_left_without_one(tmp_path, monkeypatch):
    # One behaviour for `picsift index` and the server's index jobs (tests/search/
    # test_api_jobs.py): a run that adds images captions every image still without a caption,
    # so images of an earlier --no-captions run, or of a run cut short, get theirs.
    monkeypatch.setenv("PICSIFT_CAPTION_MODEL", "toy")
    write_4cat_zip(tmp_path / "first.zip", 3, seed=31, shared=False)
    write_4cat_zip(tmp_path / "second.zip", 2, seed=32, shared=False)
    index(tmp_path / "store", tmp_path / "first.zip")
    argv = ["--store", str(tmp_path / "store"), "--model", "toy", "index"]
    report = tmp_path / "second.json"
    runner.invoke(
        app, [*argv, str(tmp_path / "second.zip"), "--report", str(report)], catch_exceptions=False
    )
    assert json.loads(report.read_text())["captions"] == {"written": 5, "failed": []}
    assert all(r.payload["caption"] for r in records(tmp_path / "store"))
    again = tmp_path / "again.json"
    runner.invoke(app, [*argv, str(tmp_path / "second.zip"), "--report", str(again)])
    assert "captions" not in json.loads(again.read_text()), "nothing new: no captioner loaded"
