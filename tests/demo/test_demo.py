"""`picsift demo --no-serve` and its generated corpus."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import zipfile
from collections import Counter

import pytest
from typer.testing import CliRunner

from cli.main import app
from picsift.demo.corpus import WEEKS, write_demo_corpus
from picsift.models.toy import COLORS, SHAPES
from picsift.store.edge import EdgeStore
from topics.table import current_run, list_topics

runner = CliRunner()


def test_corpus_looks_like_a_4cat_tiktok_export(tmp_path):
    corpus = write_demo_corpus(tmp_path / "a")
    with corpus.posts.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == corpus.n_posts > corpus.n_images == 12 * 20
    assert all(len(r["id"]) == 19 and r["id"].isdigit() for r in rows)
    assert len({r["author"] for r in rows}) > 5
    days = {dt.date.fromisoformat(r["timestamp"][:10]) for r in rows}
    assert (max(days) - min(days)).days > 7 * (WEEKS - 3), "posts spread over weeks"
    with zipfile.ZipFile(corpus.archive) as archive:
        metadata = json.loads(archive.read(".metadata.json"))
        data = Counter(archive.read(e["filename"]) for e in metadata.values() if e["success"])
    assert sum(not e["success"] for e in metadata.values()) == 2
    assert {r["id"] for r in rows} == {i for e in metadata.values() for i in e["post_ids"]}
    assert len(data) == corpus.n_images and max(data.values()) > 1, "reposted images"
    again = write_demo_corpus(tmp_path / "b")
    assert again.posts.read_bytes() == corpus.posts.read_bytes(), "deterministic"


@pytest.mark.slow
def test_demo_no_serve_leaves_a_working_setup(tmp_path, monkeypatch):
    workdir = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--workdir", str(workdir), "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "240 new images" in result.output and "topics:" in result.output
    for name in ("corpus/images.zip", "corpus/posts.csv", "picsift.toml", "store"):
        assert (workdir / name).exists(), name
    with EdgeStore(workdir / "store") as store:
        payloads = [r.payload for r in store.images.scroll()]
        topics = list_topics(store)
    assert len(payloads) == 240 and sum(p["n_posts"] for p in payloads) == 306
    assert all(p.get("caption") for p in payloads)
    assert all(isinstance(p.get("topic"), int) for p in payloads)
    assert len([t for t in topics if t.topic >= 0]) >= len(COLORS) * len(SHAPES) - 2
    assert current_run(workdir / "store") is not None
    # The closing hint works as printed in a fresh shell, where no virtual environment is active.
    hint = next(line for line in result.output.splitlines() if line.startswith("try: "))
    fresh = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    tried = subprocess.run(
        ["bash", "-c", hint.removeprefix("try: ")], env=fresh, capture_output=True, text=True
    )
    # The demo's posts have text: a search with no mode ranks by the image and the text.
    assert tried.returncode == 0 and "images ranked by hybrid search" in tried.stdout, tried.stderr
    # Every other command works in the demo folder, from its picsift.toml alone.
    monkeypatch.chdir(workdir)
    for key in [k for k in os.environ if k.startswith("PICSIFT_")]:
        monkeypatch.delenv(key)
    found = runner.invoke(app, ["search", "red circle", "--json", "--limit", "10"])
    assert found.exit_code == 0, found.output
    hits = json.loads(found.output)["hits"]
    assert [h["caption"] for h in hits].count("a red circle") >= 9
    assert len({h["topic"] for h in hits}) <= 2
    rerun = runner.invoke(app, ["demo", "--workdir", str(workdir), "--no-serve"])
    assert rerun.exit_code == 0 and "0 new images, 240 already indexed" in rerun.output
