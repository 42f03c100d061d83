"""`picsift index` on an embedded store held by a running `picsift serve`: the run becomes an
index job on that server, and the command reports its result."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from picsift.cli.main import app
from picsift.store.edge import EdgeStore
from tests.indexer.conftest import write_4cat_zip, write_tiktok_csv
from tests.search.test_serve import free_port, get

MAIN = [sys.executable, "-c", "from picsift.cli.main import main; main()"]


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
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env |= {
        "PICSIFT_STORE": str(store),
        "PICSIFT_PORT": str(port),
        "PICSIFT_CAPTION_MODEL": "none",
        "PICSIFT_API_KEY": "s3cret",
    }
    server = subprocess.Popen(
        [*MAIN, "serve", "--index-root", str(tmp_path)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.stdout.read().decode()
            try:
                if get(f"{url}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.5)
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
    finally:
        server.send_signal(signal.SIGINT)
        output = server.communicate(timeout=60)[0].decode()
    assert server.returncode == 0, output
    with EdgeStore(store) as opened:
        assert opened.images.count() == 10
