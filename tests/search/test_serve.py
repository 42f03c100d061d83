"""`picsift serve` as a real process: it owns the store, records its URL in the lock, answers
over HTTP, and `picsift export` goes through it while it runs."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from cli.main import app
from picsift.store.edge import EdgeStore
from picsift.store.lock import read_holder
from tests.indexer.conftest import write_4cat_zip
from tests.search.conftest import index_sources

MAIN = [sys.executable, "-c", "from cli.main import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@contextlib.contextmanager
def serving(store, cwd, env: dict[str, str], *args: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """`picsift serve` on `store` in its own process, ready; stopped with Ctrl-C on exit."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")} | env
    env |= {"PICSIFT_STORE": str(store), "PICSIFT_PORT": str(port)}
    server = subprocess.Popen(
        [*MAIN, "serve", *args], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
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
        yield url, server
    finally:
        server.send_signal(signal.SIGINT)
        server.output = server.communicate(timeout=60)[0].decode()


@pytest.mark.slow
def test_serve_owns_the_store_and_export_goes_through_it(tmp_path, toy_clip):
    write_4cat_zip(tmp_path / "a.zip", 8, seed=31)
    store = tmp_path / "store"
    with EdgeStore(store) as opened:
        index_sources(opened, toy_clip, store, [tmp_path / "a.zip"])
    runner = CliRunner()
    with serving(store, tmp_path, {"PICSIFT_CAPTION_MODEL": "none"}) as (url, server):
        assert read_holder(store)["url"] == url
        status, body = get(f"{url}/api/search?q=red+circle&limit=3")
        assert status == 200 and len(json.loads(body)["hits"]) == 3
        status, body = get(f"{url}/api/search?q=&limit=100")  # a blank query browses
        assert status == 200 and len(json.loads(body)["hits"]) == 8
        status, body = get(f"{url}/api/search?not=red")
        assert status == 422 and json.loads(body)["parameter"] == "q"
        assert get(f"{url}/openapi.json")[0] == 200

        out = tmp_path / "posts.csv"
        exported = runner.invoke(app, ["--store", str(store), "export", "--out", str(out)])
        assert exported.exit_code == 0, exported.output
        assert f"exporting through its API at {url}" in exported.output or url in exported.output
        assert len(list(csv.DictReader(out.open()))) == 9  # 8 images, one with two posts
        manifest = json.loads((tmp_path / "posts.csv.manifest.json").read_text())
        assert manifest["rows"] == 9 and manifest["model"] == "toy"

        def cli(*args: str) -> str:
            result = runner.invoke(app, ["--store", str(store), *args])
            assert result.exit_code == 0, result.output
            return result.output

        # Selections, the network and the engagement sort go through the server as well.
        saved = cli(
            "selections", "save", "reds", "red", "circle", "--mode", "image", "--limit", "3"
        )
        assert saved.startswith("saved reds  3 images, search")
        shown = json.loads(cli("selections", "show", "reds", "--json"))
        ids_file = tmp_path / "ids.txt"
        ids_file.write_text("\n".join(shown["ids"][:2]))
        cli("selections", "save", "two", "--ids-file", str(ids_file), "--source", "picked")
        assert cli("selections", "list").startswith("2 saved selections")
        cli("export", "--selection", "two", "--out", str(tmp_path / "two.csv"))
        rows = list(csv.DictReader((tmp_path / "two.csv").open()))
        assert {r["image_id"] for r in rows} == set(shown["ids"][:2])
        cli("selections", "delete", "two")
        assert cli("selections", "list").startswith("1 saved selections")
        network = cli("export", "--format", "gexf", "--out", str(tmp_path / "net.gexf"))
        assert "wrote a network of" in network and (tmp_path / "net.gexf").is_file()
        ranked = ("search", "red", "--mode", "image", "--min-score", "-1", "--sort", "engagement")
        assert "sorted by engagement" in cli(*ranked)
    assert server.returncode == 0, server.output
    assert "Traceback" not in server.output
    assert read_holder(store) is None  # the lock is released
