"""Provenance across runs: which dataset a post belongs to, and which table's data it carries.

A post is identified by (dataset, post id). The newest table given for a dataset wins, field by
field; one dataset's post is never filled from another's table. End to end through
`picsift index` / `picsift remove` with the toy model and real stores.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from picsift.store.edge import EdgeStore
from tests.indexer.conftest import DATASET, post_id, write_4cat_zip, write_tiktok_csv
from tests.indexer.fixtures_formats import image_archive, jpegs

runner = CliRunner()

KEY_A = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
KEY_B = "f9e8d7c6b5a4039281706f5e4d3c2b1a"
X, Y = post_id(0), post_id(1)


def cli(store: Path, *args: object) -> str:
    argv = ["--store", str(store), "--model", "toy", *map(str, args)]
    result = runner.invoke(app, argv, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def index(store: Path, *args: object) -> dict:
    """`picsift index` without captions; the JSON report."""
    report = store.parent / "report.json"
    cli(store, "index", *args, "--no-captions", "--report", report)
    return json.loads(report.read_text())


def posts(store: Path) -> dict[tuple[str, str], dict]:
    """Every stored post by (dataset, post id)."""
    with EdgeStore(store) as s:
        return {
            (p["dataset"], p["post_id"]): p for r in s.images.scroll() for p in r.payload["posts"]
        }


def status(store: Path) -> dict:
    return json.loads(cli(store, "status", "--json"))


def write_table(path: Path, rows: dict[str, dict[str, str]], extra: tuple[str, ...] = ()) -> Path:
    """A 4CAT-style CSV: one row per post id, `likes`, `Transcript` and `extra` columns."""
    columns = ["id", "author", "body", "timestamp", "likes", "Transcript", *extra]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, columns)
        writer.writeheader()
        for pid, row in rows.items():
            writer.writerow({"id": pid, "timestamp": "2024-01-02 03:04:05"} | row)
    return path


def test_same_folder_under_a_second_dataset_survives_removing_the_first(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i, data in enumerate(jpegs(3, seed=4)):
        (folder / f"photo_{i}.jpg").write_bytes(data)
    store = tmp_path / "store"
    index(store, folder, "--dataset", "first")
    assert index(store, folder, "--dataset", "second")["known"] == 3
    assert status(store)["datasets"] == {"first": 3, "second": 3}
    assert "0 images deleted, 3 kept" in cli(store, "remove", "--dataset", "first")
    assert status(store)["datasets"] == {"second": 3}


def overlapping_scrapes(tmp_path: Path) -> Path:
    """Scrape A (table + zip) holds post X; scrape B's zip holds X (another thumbnail) and Y."""
    a, b = jpegs(1, seed=7), jpegs(2, seed=8)
    image_archive(tmp_path / "A.zip", {f"{X}.jpeg": (a[0], [X])}, KEY_A)
    files = {f"{X}.jpeg": (b[0], [X]), f"{Y}.jpeg": (b[1], [Y])}
    image_archive(tmp_path / "B.zip", files, KEY_B)
    row_a = {"author": "ann", "body": "A body", "likes": "10", "Transcript": "coder A notes"}
    write_table(tmp_path / "A.csv", {X: row_a})
    row_bx = {"author": "bob", "body": "B body", "likes": "555", "Transcript": "coder B notes"}
    write_table(tmp_path / "B.csv", {X: row_bx, Y: {"author": "bea", "body": "why"}})
    store = tmp_path / "store"
    index(store, tmp_path / "A.csv", tmp_path / "A.zip")
    return store


def test_another_datasets_cached_post_is_not_copied(tmp_path):
    store = overlapping_scrapes(tmp_path)
    report = index(store, tmp_path / "B.zip")
    stored = posts(store)
    assert (stored[(KEY_B, X)]["body"], stored[(KEY_B, X)]["extra"]) == ("", {})
    assert stored[(KEY_A, X)]["extra"]["Transcript"] == "coder A notes"
    assert report["posts_linked"] == 0


def test_a_datasets_own_table_later_replaces_its_bare_posts(tmp_path):
    store = overlapping_scrapes(tmp_path)
    index(store, tmp_path / "B.zip")
    report = index(store, tmp_path / "B.csv")
    assert (report["posts_linked"], report["posts_without_media"]) == (2, 0)
    stored = posts(store)
    bx, ax = stored[(KEY_B, X)], stored[(KEY_A, X)]
    assert (bx["author"], bx["body"], bx["extra"]) == (
        "bob",
        "B body",
        {"likes": "555", "Transcript": "coder B notes"},
    )
    assert (ax["body"], ax["extra"]["likes"], ax["extra"]["Transcript"]) == (
        "A body",
        "10",
        "coder A notes",
    )
    assert stored[(KEY_B, Y)]["author"] == "bea"
    cli(store, "remove", "--dataset", KEY_A)
    assert set(posts(store)) == {(KEY_B, X), (KEY_B, Y)}
    assert posts(store)[(KEY_B, X)]["extra"]["Transcript"] == "coder B notes"


def test_updated_table_replaces_stored_post_data_field_by_field(tmp_path):
    images = write_4cat_zip(tmp_path / "images.zip", 3, shared=False)
    write_tiktok_csv(tmp_path / "tiktok.csv", 3, images)
    store = tmp_path / "store"
    index(store, tmp_path / "tiktok.csv", tmp_path / "images.zip")
    rows = {
        post_id(i): {"likes": str(1000 + i), "Audio transcription": f"heard {i}"} for i in range(3)
    }
    write_table(tmp_path / "v2.csv", rows, extra=("Audio transcription",))
    report = index(store, tmp_path / "v2.csv", "--dataset", DATASET)
    assert report["posts_linked"] == 3
    post = posts(store)[(DATASET, post_id(2))]
    assert post["extra"]["likes"] == "1002" and post["extra"]["Audio transcription"] == "heard 2"
    assert post["author"] == "user2" and post["extra"]["Transcript"] == "transcript 2"


def cached_posts(store: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(store / "index-cache.sqlite") as db:
        return db.execute("SELECT dataset, count(*) FROM posts GROUP BY dataset").fetchall()


def test_table_first_then_archive_counts_and_removes_the_joined_posts(tmp_path):
    write_tiktok_csv(tmp_path / "tiktok-abc123.csv", 4)
    store = tmp_path / "store"
    assert index(store, tmp_path / "tiktok-abc123.csv")["posts_without_media"] == 4
    write_4cat_zip(tmp_path / "images.zip", 4, shared=False)
    report = index(store, tmp_path / "images.zip")
    assert report["posts_linked"] == 4
    assert cached_posts(store) == [(DATASET, 4)]
    cli(store, "remove", "--dataset", DATASET)
    assert cached_posts(store) == []
    index(store, tmp_path / "images.zip")
    assert all(p["author"] == "" for p in posts(store).values())


def test_table_stem_joined_once_keeps_its_dataset_when_indexed_again(tmp_path):
    write_4cat_zip(tmp_path / "images.zip", 3, shared=False)
    store = tmp_path / "store"
    index(store, tmp_path / "images.zip")
    write_tiktok_csv(tmp_path / "tiktok.csv", 3)
    assert index(store, tmp_path / "tiktok.csv")["posts_linked"] == 3
    write_table(tmp_path / "tiktok.csv", {post_id(0): {"likes": "77"}})
    assert index(store, tmp_path / "tiktok.csv")["posts_linked"] == 1
    assert posts(store)[(DATASET, post_id(0))]["extra"]["likes"] == "77"
    assert cached_posts(store) == [(DATASET, 3)]


def test_table_alone_never_fills_a_dataset_that_has_its_own_table(tmp_path):
    store = overlapping_scrapes(tmp_path)
    report = index(store, tmp_path / "B.csv")
    assert report["posts_linked"] == 0
    assert report["warnings"] == [
        f"table 'B': its posts are in dataset(s) '{KEY_A}', which have a table already; not "
        "joined: to update one, index the table again with --dataset NAME"
    ]
    assert posts(store)[(KEY_A, X)]["extra"]["Transcript"] == "coder A notes"
    assert index(store, tmp_path / "B.zip")["posts_linked"] == 2
    stored = posts(store)
    assert stored[(KEY_B, X)]["extra"]["Transcript"] == "coder B notes"
    assert stored[(KEY_A, X)]["extra"]["Transcript"] == "coder A notes"
