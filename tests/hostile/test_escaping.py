"""Scraped text with terminal escapes, text-direction overrides and spreadsheet formulas is
stored exactly, and escaped where it is shown: `picsift search` output and CSV exports (the
manifest says how); NDJSON and `--json` stay exact. A CSV header that repeats a column name
gets a warning naming it (#23 item 12)."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from cli.main import app
from indexer.tables import read_posts
from picsift.store import PointData
from picsift.store.edge import EdgeStore
from tests.conftest import point_id

runner = CliRunner()
CLEAR = "\x1b[2J\x1b[31mroot"  # clears the screen, then prints in red
FLIPPED = "evil\u202egpj.exe"  # shows as "evilexe.jpg"
FORMULA = '=HYPERLINK("http://evil.example","click")'
POSTS = [
    {"dataset": "ds", "post_id": FLIPPED, "author": CLEAR, "body": FORMULA, "ts": 1},
    {"dataset": "ds", "post_id": "-2+3", "author": "@admin", "hashtags": ["+cmd", "fine"]},
    {"dataset": "ds", "post_id": "\tTAB", "body": "\rCR", "ts": 2},
]
CAPTION = "a caption\x1b]0;new title\x07 with a bell"
PLAIN = 5


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    """One image with the hostile posts (topic -1: a negative number, not a formula), and
    plain ones beside it (a ranking needs a spread of scores)."""
    from picsift.models.encoder import ClipEncoder
    from picsift.models.runtime import Runtime
    from picsift.models.toy import sample

    encoder = ClipEncoder("toy", runtime=Runtime("cpu", "fp32", "test"))
    shapes = sample(PLAIN + 1, seed=1)
    vectors = encoder.embed_images([image for image, _, _ in shapes])
    path = tmp_path_factory.mktemp("hostile") / "store"
    payload = {"sha256": "0" * 64, "posts": POSTS, "n_posts": len(POSTS), "datasets": ["ds"]}
    payload |= {"caption": CAPTION, "topic": -1, "first_seen": 2}
    points = [PointData(point_id(0), vectors[0], payload)]
    for i in range(1, PLAIN + 1):
        plain = {"sha256": f"{i:064x}", "datasets": ["plain"], "first_seen": 1, "posts": []}
        points.append(PointData(point_id(i), vectors[i], plain))
    with EdgeStore(path) as store:
        store.ensure("toy", len(vectors[0]))
        store.images.upsert(points)
    return path


def invoke(store_path, *args: str) -> str:
    result = runner.invoke(app, ["--store", str(store_path), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_search_output_shows_controls_as_escapes(store_path):
    out = invoke(store_path, "search", "red", "circle", "--dataset", "ds")
    assert not any(char in out for char in "\x1b\x07\u202e\t\r")
    assert "ds evil\\u202egpj.exe @\\x1b[2J\\x1b[31mroot" in out
    assert "ds \\tTAB" in out
    assert "a caption\\x1b]0;new title\\x07 with a bell" in out


def test_search_json_is_exact_and_printable(store_path):
    out = invoke(store_path, "search", "red", "circle", "--json", "--dataset", "ds")
    assert "\x1b" not in out and "\u202e" not in out
    (hit,) = json.loads(out)["hits"]
    assert [p["post_id"] for p in hit["posts"]] == [p["post_id"] for p in POSTS]
    assert hit["posts"][0]["author"] == CLEAR and hit["caption"] == CAPTION


def test_csv_export_quotes_formulas_and_says_so(store_path, tmp_path):
    out = tmp_path / "posts\u202evsc.csv"  # a file name can mislead too
    said = invoke(store_path, "export", "--out", str(out), "--dataset", "ds")
    assert "\u202e" not in said and "posts\\u202evsc.csv" in said
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["post_id"] for r in rows] == [FLIPPED, "'-2+3", "'\tTAB"]
    assert rows[0]["body"] == "'" + FORMULA and rows[0]["author"] == CLEAR
    assert rows[1]["author"] == "'@admin" and rows[1]["hashtags"] == "'+cmd,fine"
    assert rows[2]["body"] == "'\rCR"
    assert rows[0]["topic"] == "-1"  # numbers are not text a spreadsheet runs
    manifest = json.loads(out.with_name(out.name + ".manifest.json").read_text())
    assert "leading '" in manifest["csv_escaping"] and "OWASP" in manifest["csv_escaping"]


def test_ndjson_export_is_exact(store_path, tmp_path):
    out = tmp_path / "posts.ndjson"
    invoke(store_path, "export", "--out", str(out), "--format", "ndjson", "--dataset", "ds")
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["post_id"], r["author"], r["body"]) for r in rows[:1]] == [(FLIPPED, CLEAR, FORMULA)]
    assert rows[1]["hashtags"] == ["+cmd", "fine"] and rows[2]["post_id"] == "\tTAB"
    manifest = json.loads(out.with_name(out.name + ".manifest.json").read_text())
    assert manifest["csv_escaping"].startswith("none")


def test_repeated_header_names_are_named_in_a_warning(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("id,author,note,ID,author,note,note\nA1,first,n1,B2,second,n2,n3\n")
    result = read_posts(path, "ds")
    (post,) = result.posts
    assert (post.post_id, post.author) == ("A1", "first")
    (warning,) = result.warnings
    assert warning.startswith(f"{path}: the header (line 1) repeats column names: ")
    assert "'id' (2 times), 'author' (2 times), 'note' (3 times)" in warning
