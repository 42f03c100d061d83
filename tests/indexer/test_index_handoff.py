"""`picsift index` on an embedded store held by a running `picsift serve`: the run becomes an
index job on that server, and the command reports its result."""

from __future__ import annotations

import json
import sys

import pytest
from typer.testing import CliRunner

from cli.main import app
from picsift.store.edge import EdgeStore
from tests.indexer.conftest import write_4cat_zip, write_tiktok_csv
from tests.search.test_serve import get, serving

MAIN = [sys.executable, "-c", "from cli.main import main; main()"]


@pytest.mark.slow
def test_index_is_handed_to_the_running_server(tmp_path):
    runner = CliRunner()
    store = tmp_path / "store"
    write_4cat_zip(tmp_path / "first.zip", 4, seed=41)
    first = runner.invoke(
        app,
        [
            "--store",
            str(store),
            "--model",
            "toy",
            "index",
            str(tmp_path / "first.zip"),
            "--no-captions",
        ],
    )
    assert first.exit_code == 0, first.output
    images = write_4cat_zip(tmp_path / "more.zip", 6, seed=42)
    write_tiktok_csv(tmp_path / "more.csv", 6, images)
    env = {"PICSIFT_CAPTION_MODEL": "none", "PICSIFT_API_KEY": "s3cret"}
    with serving(store, tmp_path, env, "--index-root", str(tmp_path)) as (url, server):
        base = [
            "--store",
            str(store),
            "index",
            str(tmp_path / "more.zip"),
            str(tmp_path / "more.csv"),
        ]
        report = tmp_path / "report.json"
        refused = runner.invoke(app, base, env={"PICSIFT_API_KEY": "wrong"})
        assert refused.exit_code != 0 and url in str(refused.exception)
        handed = runner.invoke(
            app, [*base, "--report", str(report)], env={"PICSIFT_API_KEY": "s3cret"}
        )
        assert handed.exit_code == 0, handed.output
        assert f"picsift serve at {url}" in handed.output
        assert "6 new images" in handed.output
        assert json.loads(report.read_text())["posts_linked"] == 6
        status, body = get(f"{url}/api/status")
        assert status == 200 and json.loads(body)["images"] == 10
    assert server.returncode == 0, server.output
    with EdgeStore(store) as opened:
        assert opened.images.count() == 10
