"""The table's other columns (each post's `extra`) in the export: all by default, or those named
by --columns / columns=; CSV headers `extra.NAME`, NDJSON an `extra` object; the manifest lists
them and says when indexed text was cut."""

from __future__ import annotations

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cli.main import app
from indexer.records import EXTRA_MAX_CHARS
from picsift.settings import Settings
from search.export import COLUMNS
from tests.indexer.conftest import post_id, write_4cat_zip
from tests.search.conftest import index_sources

N = 12  # images of zip A; its last image is also used by post N
HEADER = ["id", "author", "body", "unix_timestamp", "tiktok_url"]
# `score` is also a fixed column of the export: the extra one is `extra.score`.
EXTRA = ["likes", "plays", "score", "Audio transcription"]
LONG = "word " * 600  # 3,000 characters, stored cut at EXTRA_MAX_CHARS
FORMULAS = {1: ("score", "=1+2"), 3: ("Audio transcription", "@SUM(A1)")}


def extra_of(i: int) -> dict[str, str]:
    row = {
        "likes": str(10 * i),
        "plays": str(100 * i),
        "score": f"{i / 10}",
        "Audio transcription": LONG if i == 0 else f"transcript {i}",
    }
    if i in FORMULAS:
        column, value = FORMULAS[i]
        row[column] = value
    return row


def write_table(path, n_posts: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER + EXTRA)
        for i in range(n_posts):
            head = [post_id(i), f"user{i % 3}", f"post {i}", str(1_700_000_000 + i * 86_400)]
            head.append(f"https://www.tiktok.com/@user{i % 3}/video/{post_id(i)}")
            writer.writerow(head + [extra_of(i)[k] for k in EXTRA])


@pytest.fixture(scope="module")
def columns_store(tmp_path_factory, toy_clip):
    """A closed store: zip A with its table (the extra columns), zip B (dataset `second`, no
    table: posts without extra columns). Returns the store path and the stored payloads."""
    from picsift.store.edge import EdgeStore

    root = tmp_path_factory.mktemp("export-columns")
    write_4cat_zip(root / "a.zip", N, seed=8)
    write_table(root / "a.csv", N + 1)
    write_4cat_zip(root / "b.zip", 4, seed=5, shared=False)
    with EdgeStore(root / "store") as store:
        index_sources(store, toy_clip, store.directory, [root / "a.zip", root / "a.csv"])
        index_sources(store, toy_clip, store.directory, [root / "b.zip"], dataset="second")
        payloads = {r.id: r.payload for r in store.images.scroll()}
    return root / "store", payloads


def stored_extra(payloads: dict) -> dict[tuple[str, str, str], dict]:
    """(post id, dataset, image id) -> the post's stored extra columns."""
    return {
        (p["post_id"], p["dataset"], image_id): p.get("extra") or {}
        for image_id, payload in payloads.items()
        for p in payload["posts"]
    }


def export(store, tmp_path, *args: str, name: str = "out.csv"):
    out = tmp_path / name
    result = CliRunner().invoke(app, ["--store", str(store), "export", "--out", str(out), *args])
    manifest = tmp_path / f"{name}.manifest.json"
    return result, out, manifest


def escaped(value: str) -> str:
    return "'" + value if value.startswith(("=", "+", "-", "@", "\t", "\r")) else value


def test_csv_has_every_extra_column_of_the_exported_posts(columns_store, tmp_path):
    store, payloads = columns_store
    result, out, manifest_path = export(store, tmp_path)
    assert result.exit_code == 0, result.output
    reader = csv.DictReader(out.open(encoding="utf-8", newline=""))
    prefixed = [f"extra.{name}" for name in EXTRA]
    assert reader.fieldnames == [*COLUMNS, *prefixed]
    rows = list(reader)
    want = stored_extra(payloads)
    assert len(rows) == len(want)
    for row in rows:
        extra = want[(row["post_id"], row["dataset"], row["image_id"])]
        assert [row[f"extra.{k}"] for k in EXTRA] == [escaped(extra.get(k, "")) for k in EXTRA]
    by_post = {r["post_id"]: r for r in rows if r["dataset"] != "second"}
    assert by_post[post_id(1)]["extra.score"] == "'=1+2"  # CSV injection escaping applies
    assert by_post[post_id(3)]["extra.Audio transcription"] == "'@SUM(A1)"
    assert by_post[post_id(0)]["extra.Audio transcription"] == LONG[:EXTRA_MAX_CHARS]
    assert by_post[post_id(5)]["score"] == "" and by_post[post_id(5)]["extra.score"] == "0.5"
    assert {r["extra.likes"] for r in rows if r["dataset"] == "second"} == {""}

    manifest = json.loads(manifest_path.read_text())
    assert manifest["columns"] == [*COLUMNS, *prefixed] == reader.fieldnames
    assert manifest["extra_columns"] == EXTRA
    assert "first-seen order" in manifest["extra_columns_are"]
    assert f"cut at {EXTRA_MAX_CHARS:,} characters; 1 exported cells" in manifest["extra_cut"]


def test_ndjson_nests_the_exact_values(columns_store, tmp_path):
    store, payloads = columns_store
    result, out, manifest_path = export(store, tmp_path, "--format", "ndjson", name="o.ndjson")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    want = stored_extra(payloads)
    assert {(r["post_id"], r["dataset"], r["image_id"]): r["extra"] for r in rows} == want
    assert all(list(r) == [*COLUMNS, "extra"] for r in rows)
    by_post = {r["post_id"]: r["extra"] for r in rows if r["dataset"] != "second"}
    assert by_post[post_id(1)]["score"] == "=1+2"  # exact: no spreadsheet escaping
    assert by_post[post_id(N)] == extra_of(N)
    manifest = json.loads(manifest_path.read_text())
    assert manifest["columns"] == [*COLUMNS, "extra"] and manifest["extra_columns"] == EXTRA


def test_named_columns_in_the_order_given(columns_store, tmp_path):
    store, payloads = columns_store
    wanted = ["plays", "Audio transcription"]
    result, out, manifest_path = export(store, tmp_path, "--columns", " plays,Audio transcription")
    assert result.exit_code == 0, result.output
    reader = csv.DictReader(out.open(encoding="utf-8", newline=""))
    assert reader.fieldnames == [*COLUMNS, "extra.plays", "extra.Audio transcription"]
    manifest = json.loads(manifest_path.read_text())
    assert manifest["extra_columns"] == wanted and manifest["columns"] == reader.fieldnames
    assert manifest["extra_columns_are"].endswith("those asked for (columns)")

    result, out, _ = export(store, tmp_path, "--columns", "likes", "--format", "ndjson")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    want = stored_extra(payloads)
    for row in rows:
        stored = want[(row["post_id"], row["dataset"], row["image_id"])]
        assert row["extra"] == ({"likes": stored["likes"]} if stored else {})


def test_columns_come_from_the_exported_posts_only(columns_store, tmp_path):
    store, _ = columns_store
    result, out, manifest_path = export(store, tmp_path, "--dataset", "second")
    assert result.exit_code == 0, result.output
    assert next(csv.reader(out.open(encoding="utf-8"))) == list(COLUMNS)
    manifest = json.loads(manifest_path.read_text())
    assert manifest["extra_columns"] == [] and manifest["extra_cut"] is None

    args = ["--dataset", "second", "--columns", "likes"]
    result, out, _ = export(store, tmp_path, *args, name="refused.csv")
    assert result.exit_code != 0 and not out.exists()
    assert str(result.exception) == (
        "--columns: no column 'likes' in the exported posts; their columns: none"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "likes,likez",
            "--columns: no column 'likez' in the exported posts; their columns: "
            "'likes', 'plays', 'score', 'Audio transcription'",
        ),
        ("likes,,plays", "--columns: an empty column name in 'likes,,plays'"),
    ],
)
def test_bad_columns_are_refused_by_name(columns_store, tmp_path, value, message):
    store, _ = columns_store
    result, out, _ = export(store, tmp_path, "--columns", value)
    assert result.exit_code != 0 and not out.exists()
    assert str(result.exception).startswith(message)


def test_api_export_columns(columns_store, toy_clip):
    from picsift.store.edge import EdgeStore
    from search.app import create_app

    store_dir, _ = columns_store
    settings = Settings(store=str(store_dir), caption_model="none")
    with EdgeStore(store_dir) as store:
        api = create_app(settings, store=store, encoder=toy_clip)
        with TestClient(api) as client:
            response = client.get("/api/export", params={"columns": "score,likes"})
            assert response.status_code == 200
            header = next(csv.reader(io.StringIO(response.text)))
            assert header == [*COLUMNS, "extra.score", "extra.likes"]
            rows = client.get("/api/export", params={"format": "ndjson"}).text.splitlines()
            assert {k for line in rows for k in json.loads(line)["extra"]} == set(EXTRA)

            params = {"q": "red", "limit": 3, "columns": "likes"}
            manifest = client.get("/api/export/manifest", params=params).json()
            assert manifest["extra_columns"] == ["likes"] and manifest["rows"] >= 3
            assert manifest["columns"] == [*COLUMNS, "extra.likes"]

            bad = client.get("/api/export", params={"columns": "plays,nope"})
            assert bad.status_code == 422 and bad.json()["parameter"] == "columns"
            assert (
                "no column 'nope'" in bad.json()["message"] and "'plays'" in bad.json()["message"]
            )
            bad = client.get("/api/export/manifest", params={"columns": ","})
            assert bad.status_code == 422 and bad.json()["parameter"] == "columns"
