"""Tables that trip a naive sniffer: a NUL byte early in a CSV, UTF-16 with a byte-order mark
(Excel's "Unicode text"), and a source that is neither images nor a table: each is read or
fails alone, and the media given in the same run are indexed all the same."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli.main import app
from picsift.store.edge import EdgeStore
from tests.indexer.conftest import post_id, write_4cat_zip, write_tiktok_csv

runner = CliRunner()


def index(tmp_path, *sources):
    report = tmp_path / "report.json"
    argv = ["--store", str(tmp_path / "store"), "--model", "toy", "index", *map(str, sources)]
    result = runner.invoke(app, [*argv, "--no-captions", "--report", str(report)])
    assert result.exit_code == 0, result.output
    return json.loads(report.read_text()), result.output


def authors(tmp_path) -> dict[str, str]:
    with EdgeStore(tmp_path / "store") as store:
        return {
            p["post_id"]: p["author"] for r in store.images.scroll() for p in r.payload["posts"]
        }


def test_a_nul_byte_early_in_a_csv_fails_no_row_and_no_other_source(tmp_path):
    images = write_4cat_zip(tmp_path / "images.zip", 4)
    write_tiktok_csv(tmp_path / "posts.csv", 5, images)  # the zip's last image has 2 posts
    lines = (tmp_path / "posts.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace(",", ",x\0y", 1)  # in the second post's first text cell
    (tmp_path / "posts.csv").write_text("".join(lines), encoding="utf-8")
    report, output = index(tmp_path, tmp_path / "images.zip", tmp_path / "posts.csv")
    assert (report["new"], report["posts_linked"]) == (4, 5)
    assert len(authors(tmp_path)) == 5
    assert "hold NUL characters (removed)" in output and "line 3" in output


def test_a_utf16_csv_with_bom_is_read(tmp_path):
    images = write_4cat_zip(tmp_path / "images.zip", 3)
    write_tiktok_csv(tmp_path / "utf8.csv", 4, images)
    text = (tmp_path / "utf8.csv").read_text(encoding="utf-8")
    (tmp_path / "posts.csv").write_bytes(text.encode("utf-16"))  # with its BOM
    report, _ = index(tmp_path, tmp_path / "images.zip", tmp_path / "posts.csv")
    assert report["posts_linked"] == 4 and report["failed"] == []
    expected = authors_of_csv(tmp_path / "utf8.csv")
    assert authors(tmp_path) == expected


def test_a_utf16_ndjson_is_read(tmp_path):
    write_4cat_zip(tmp_path / "images.zip", 2, shared=False)
    rows = [{"id": post_id(i), "author": f"user{i}", "body": "é"} for i in range(2)]
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    (tmp_path / "posts.ndjson").write_bytes(text.encode("utf-16"))
    report, _ = index(tmp_path, tmp_path / "images.zip", tmp_path / "posts.ndjson")
    assert report["failed"] == [] and report["posts_linked"] == 2
    assert authors(tmp_path) == {post_id(0): "user0", post_id(1): "user1"}


def test_a_source_that_is_neither_fails_alone(tmp_path):
    write_4cat_zip(tmp_path / "images.zip", 3)
    (tmp_path / "notes.txt").write_text("not a table")
    report, _ = index(tmp_path, tmp_path / "notes.txt", tmp_path / "images.zip")
    assert report["new"] == 3
    [failure] = report["failed"]
    assert failure["path"] == str(tmp_path / "notes.txt")
    assert failure["reason"].startswith("neither media")


def authors_of_csv(path) -> dict[str, str]:
    import csv

    with path.open(encoding="utf-8", newline="") as fh:
        return {row["id"]: row["author"] for row in csv.DictReader(fh)}
