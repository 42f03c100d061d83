"""Read-only commands beside a running `picsift serve`: the server owns the embedded store, so
`search`, `status`, `topics list|show` and `export` go through its API and print what they
print on their own."""

from __future__ import annotations

import subprocess

import pytest
from typer.testing import CliRunner

from cli.main import app
from picsift.store.edge import EdgeStore
from tests.search.test_serve import MAIN, serving
from tests.topics.conftest import PER_CLASS, add_images
from topics.fit import FitParams, fit_topics

pytestmark = pytest.mark.slow  # fits topics, starts a server

runner = CliRunner()
ENV = {"PICSIFT_CAPTION_MODEL": "none"}


def _outputs(store, tmp_path, tag: str) -> dict[str, str]:
    """What each read-only command prints, human and --json."""
    out: dict[str, str] = {}

    def run(name: str, *argv: str) -> None:
        result = runner.invoke(app, ["--store", str(store), *argv], env=ENV)
        assert result.exit_code == 0, (name, result.output)
        out[name] = result.output

    run("status", "status")
    run("status --json", "status", "--json")
    run("topics list", "topics", "list")
    run("topics list --json", "topics", "list", "--json")
    run("topics show", "topics", "show", "0")
    run("topics show --json", "topics", "show", "0", "--json")
    run("search", "search", "red", "circle", "--limit", "5", "--topic", "0", "--topic", "1")
    run("search --json", "search", "red", "circle", "--json", "--not", "square")
    csv = tmp_path / f"{tag}.csv"
    run("export", "export", "--out", str(csv), "--dataset", "telegram")
    out["export file"] = csv.read_text()
    out["export"] = out["export"].replace(f"{tag}.csv", "X.csv")
    return out


def test_read_only_commands_go_through_the_server_and_print_the_same(tmp_path, shapes):
    store = tmp_path / "store"
    with EdgeStore(store) as opened:
        add_images(opened, store, shapes, range(12 * PER_CLASS))
        fit_topics(opened, store, FitParams(min_topic_size=5, seed=7))
    alone = _outputs(store, tmp_path, "alone")
    assert "180" in alone["status"] and "0  " in alone["topics list"]

    with serving(store, tmp_path, ENV) as (url, _):
        locked = runner.invoke(app, ["--store", str(store), "topics", "fit"], env=ENV)
        assert locked.exit_code != 0 and url in str(locked.exception)  # writes stay refused
        beside = _outputs(store, tmp_path, "beside")
        whole = subprocess.run(
            [*MAIN, "--store", str(store), "status", "--json"],
            capture_output=True,
            text=True,
            env={"PICSIFT_CAPTION_MODEL": "none", "PATH": "/usr/bin:/bin"},
            timeout=120,
        )
    served = f"the store is served at {url}: exporting through its API\n"
    assert beside["export"].startswith(served)
    beside["export"] = beside["export"].removeprefix(served)
    for name, printed in alone.items():
        assert beside[name] == printed, name
    assert whole.returncode == 0 and whole.stdout == alone["status --json"], whole.stderr
