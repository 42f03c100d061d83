"""Post-level export (API and CLI): rows match the store, and the manifest says how."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from cli.main import app
from picsift.store import Record
from search.export import COLUMNS
from search.grouping import group_key
from tests.indexer.conftest import post_id, write_4cat_zip, write_tiktok_csv
from tests.search.conftest import Truth, index_sources, write_topic_run


def key(row: dict) -> tuple:
    return (row["post_id"], row["dataset"], row["image_id"], row["sha256"], int(row["topic"]))


def expected_rows(payloads: dict, keep=lambda image_id, post: True) -> set[tuple]:
    return {
        (post["post_id"], post["dataset"], image_id, p["sha256"], p["topic"])
        for image_id, p in payloads.items()
        for post in p["posts"]
        if keep(image_id, post)
    }


def test_csv_export_of_filters_matches_the_store(client, corpus):
    response = client.get("/api/export", params={"topic": 1, "dataset": "second"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == COLUMNS
    got = {key(r) for r in rows}
    want = expected_rows(
        corpus.truth.payload,
        lambda i, post: corpus.truth.payload[i]["topic"] == 1 and post["dataset"] == "second",
    )
    assert want and got == want
    assert {r["topic_label"] for r in rows} == {"green shapes"}
    assert {r["score"] for r in rows} == {""}  # no query: no ranking


def test_ndjson_export_every_image_is_post_level(client, corpus):
    response = client.get("/api/export", params={"format": "ndjson"})
    assert response.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in response.text.splitlines()]
    got = {(r["post_id"], r["dataset"], r["image_id"], r["sha256"], r["topic"]) for r in rows}
    assert got == expected_rows(corpus.truth.payload)
    assert len(rows) == sum(len(p["posts"]) for p in corpus.truth.payload.values())
    shared = [r for r in rows if r["post_id"] and r["image_id"] == rows[0]["image_id"]]
    assert all(isinstance(r["hashtags"], list) for r in shared)


def test_ranked_export_follows_the_search(client):
    params = {"q": "red circle", "limit": 10}
    hits = client.get("/api/search", params=params).json()["hits"]
    rows = [
        json.loads(line)
        for line in client.get("/api/export", params={**params, "format": "ndjson"}).iter_lines()
    ]
    assert list(dict.fromkeys(r["image_id"] for r in rows)) == [h["id"] for h in hits]
    assert rows[0]["rank"] == 1 and rows[0]["score"] == hits[0]["score"]


def test_manifest_records_how_the_set_was_made(client, corpus):
    params = {"q": "red circle", "not": "square", "topic": 0, "limit": 12, "mode": "image"}
    manifest = client.get("/api/export/manifest", params=params).json()
    assert manifest["model"] == "toy" and manifest["picsift_version"]
    assert manifest["query_encoding"] == "cpu fp32, as images"
    assert manifest["score"].startswith("cosine similarity of CLIP vectors")
    assert manifest["topic_run"]["run"] == "run-test-1"
    assert manifest["topic_run"]["params"] == {"min_topic_size": 5, "seed": 42}
    assert manifest["query"] == {"q": ["red circle"], "not": ["square"]}
    assert manifest["filters"] == {"topics": [0]}
    assert manifest["search"] == {"mode": "image"}
    unranked = client.get("/api/export/manifest", params={"topic": 0}).json()
    assert unranked["query_encoding"] is None and unranked["query"] == {"q": [], "not": []}
    assert unranked["score"] is None
    assert manifest["images"] == 12 and manifest["rows"] >= 12
    extra = [f"extra.{name}" for name in manifest["extra_columns"]]
    assert manifest["columns"] == [*COLUMNS, *extra] and manifest["created_at"]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"format": "xlsx"}, "format"),
        ({"limit": 0}, "limit"),
        ({"limit": 10**9}, "limit"),
        ({"topic": 42}, "topic"),
        ({"date_to": "31/12/2024"}, "date_to"),
    ],
)
def test_bad_export_requests(client, params, parameter):
    response = client.get("/api/export", params=params)
    assert response.status_code == 422 and response.json()["parameter"] == parameter


@pytest.fixture(scope="module")
def cli_store(tmp_path_factory, toy_clip):
    """A closed store of 24 shapes with a topic run, for the CLI to open."""
    from picsift.store.edge import EdgeStore

    root = tmp_path_factory.mktemp("cli-export")
    images = write_4cat_zip(root / "a.zip", 24, seed=8)
    write_tiktok_csv(root / "a.csv", 25, images)
    truth = Truth()
    with EdgeStore(root / "store") as store:
        index_sources(store, toy_clip, store.directory, [root / "a.zip", root / "a.csv"])
        colours = {post_id(i): img for i, img in enumerate(images)}
        for record in store.images.scroll():
            _, colour, shape = colours[record.payload["posts"][0]["post_id"]]
            truth.colour[record.id], truth.shape[record.id] = colour, shape
            truth.payload[record.id] = record.payload
        write_topic_run(store, store.directory, truth)
    return root / "store", truth


def test_cli_export_writes_rows_and_manifest(cli_store, tmp_path):
    store, truth = cli_store
    out = tmp_path / "posts.csv"
    base = ["--store", str(store), "export"]
    result = CliRunner().invoke(app, [*base, "--out", str(out), "--topic", "0", "--topic", "3"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    want = expected_rows(truth.payload, lambda i, post: truth.payload[i]["topic"] in (0, 3))
    assert want and {key(r) for r in rows} == want
    manifest = json.loads((tmp_path / "posts.csv.manifest.json").read_text())
    assert manifest["rows"] == len(rows) and manifest["filters"]["topics"] == [0, 3]
    assert manifest["topic_run"]["run"] == "run-test-1"
    assert f"wrote {len(rows):,} rows" in result.output


def test_cli_export_ranked_ndjson(cli_store, tmp_path):
    store, truth = cli_store
    out = tmp_path / "red.ndjson"
    args = ["--store", str(store), "export", "red", "circle", "--format", "ndjson"]
    result = CliRunner().invoke(app, [*args, "--mode", "image", "--limit", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert lines[0]["rank"] == 1 and len({r["image_id"] for r in lines}) == 2
    assert all(
        (truth.colour[r["image_id"]], truth.shape[r["image_id"]]) == ("red", "circle")
        for r in lines
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "--format"),
        (["--topic", "17"], "topic: no topic 17"),
        (["--date-from", "soon"], "date_from"),
        (["--not", "square"], "q: `not` subtracts from a query"),
        (["--group-by", "day"], "group_by"),
    ],
)
def test_cli_export_bad_options(cli_store, tmp_path, args, message):
    store, _ = cli_store
    out = tmp_path / "x.csv"
    result = CliRunner().invoke(app, ["--store", str(store), "export", "--out", str(out), *args])
    assert result.exit_code != 0 and message in str(result.exception)
    assert not out.exists()


def test_cli_export_one_image_per_author(cli_store, tmp_path):
    store, truth = cli_store
    out = tmp_path / "authors.csv"
    args = ["--store", str(store), "export", "--group-by", "author", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    groups = {
        group_key(Record(image_id, payload), "author")
        for image_id, payload in truth.payload.items()
    }
    assert len({r["image_id"] for r in rows}) == len(groups) < len(truth.payload)


def test_cli_search_ignores_a_blank_not(cli_store):
    store, _ = cli_store
    base = ["--store", str(store), "search", "red", "--json"]
    plain = CliRunner().invoke(app, base)
    blank = CliRunner().invoke(app, [*base, "--not", " "])
    assert plain.exit_code == blank.exit_code == 0, blank.output
    assert json.loads(blank.output) == json.loads(plain.output)


def test_cli_export_of_a_ranking_needs_a_cut(cli_store, tmp_path):
    store, _ = cli_store
    out = tmp_path / "x.csv"
    args = ["--store", str(store), "export", "red circle", "--mode", "image", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0 and not out.exists()
    assert str(result.exception).startswith(
        "export of a ranked query needs a cut: --limit N (the best N) and/or --min-score S"
    )
    assert "too small to estimate a strong-match edge" in str(result.exception)


def test_cli_export_cut_by_min_score(cli_store, tmp_path):
    store, _ = cli_store
    search = ["--store", str(store), "search", "red", "--mode", "image", "--json"]
    scores = [h["score"] for h in json.loads(CliRunner().invoke(app, search).output)["hits"]]
    cut = (scores[3] + scores[4]) / 2
    out = tmp_path / "red.ndjson"
    args = ["--store", str(store), "export", "red", "--format", "ndjson", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--min-score", str(cut)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len({r["image_id"] for r in rows}) == 4 and min(r["score"] for r in rows) >= cut
    manifest = json.loads((tmp_path / "red.ndjson.manifest.json").read_text())
    assert manifest["cut"]["min_score"] == cut and manifest["cut"]["limit"] is None
    assert manifest["cut"]["verdict"].startswith("cannot tell strong matches")


def test_cli_search_says_how_many_match_and_whether_any_stand_out(cli_store):
    store, _ = cli_store
    base = ["--store", str(store), "search", "red", "circle", "--mode", "image", "--limit", "3"]
    lines = CliRunner().invoke(app, base).output.splitlines()
    assert lines[0] == "24 images match"
    assert lines[1].startswith("cannot tell strong matches: the store has fewer than")
    assert lines[2].startswith("  1. ")
    found = CliRunner().invoke(app, [*base, "--json", "--limit", "24"])
    scores = [h["score"] for h in json.loads(found.output)["hits"]]
    cut = (scores[1] + scores[2]) / 2
    cut_run = CliRunner().invoke(app, [*base, "--min-score", str(cut), "--json"])
    out = json.loads(cut_run.output)
    assert (out["matched"], out["min_score"], len(out["hits"])) == (2, cut, 2)
    assert out["relevance"]["edge"] is None
    bad = CliRunner().invoke(app, [*base, "--min-score", "2"])
    assert bad.exit_code != 0 and "min_score: a cosine similarity" in str(bad.exception)
