"""Commands beside a running `picsift serve`: the server owns the embedded store, so `search`,
`status`, `topics list|show` and `export` go through its API and print what they print on their
own; `caption`, `topics fit|assign|rename|merge` run there too (as jobs or API edits); writes
the API has no way to do are refused with the server's URL."""

from __future__ import annotations

import subprocess

import pytest
from typer.testing import CliRunner

from cli.main import app
from picsift.store.edge import EdgeStore
from tests.search.test_serve import MAIN, serving
from tests.topics.conftest import PER_CLASS, add_images
from topics.fit import FitParams, fit_topics
from topics.table import list_topics

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


def test_commands_beside_a_server_go_through_it_and_print_the_same(tmp_path, shapes):
    store = tmp_path / "store"
    with EdgeStore(store) as opened:
        add_images(opened, store, shapes, range(12 * PER_CLASS))
        fit_topics(opened, store, FitParams(min_topic_size=5, seed=7))
    alone = _outputs(store, tmp_path, "alone")
    assert "180" in alone["status"] and "0  " in alone["topics list"]

    with serving(store, tmp_path, {"PICSIFT_CAPTION_MODEL": "toy"}) as (url, _):
        beside = _outputs(store, tmp_path, "beside")
        whole = subprocess.run(
            [*MAIN, "--store", str(store), "status", "--json"],
            capture_output=True,
            text=True,
            env={"PICSIFT_CAPTION_MODEL": "none", "PATH": "/usr/bin:/bin"},
            timeout=120,
        )
        writes = _writes(store, tmp_path, url)
    served = f"the store is served at {url}: exporting through its API\n"
    assert beside["export"].startswith(served)
    beside["export"] = beside["export"].removeprefix(served)
    for name, printed in alone.items():
        assert beside[name] == printed, name
    assert whole.returncode == 0 and whole.stdout == alone["status --json"], whole.stderr
    assert "topic 0 is now 'signs'" in writes["rename"]
    assert "merged 2 into topic 1 (two kinds)" in writes["merge"]
    assert "0 images assigned, 0 like no topic" in writes["assign"]
    assert "topics fitted on 180 images" in writes["fit"] and "since run" in writes["fit"]
    assert "captions: 0 written, 0 failed" in writes["caption"]
    for name in ("assign", "fit", "caption"):
        assert f"picsift serve at {url}: " in writes[name] and " there as job " in writes[name]
    with EdgeStore(store) as opened:
        labels = {t.topic: t.label for t in list_topics(opened)}
    assert labels[0] == "signs" and labels[1] == "two kinds" and 2 not in labels


def _writes(store, tmp_path, url: str) -> dict[str, str]:
    """What the writes print beside the server."""
    out: dict[str, str] = {}

    def run(name: str, *argv: str) -> None:
        env = {"PICSIFT_CAPTION_MODEL": "toy"}
        result = runner.invoke(app, ["--store", str(store), *argv], env=env)
        assert result.exit_code == 0, (name, result.output, result.exception)
        out[name] = result.output

    run("rename", "topics", "rename", "0", "signs")
    run("merge", "topics", "merge", "1", "2", "--label", "two kinds")
    run("assign", "topics", "assign")
    run("caption", "caption")
    codebook = tmp_path / "codebook.txt"
    codebook.write_text("red circle\nblue square\n")
    refused = runner.invoke(app, ["--store", str(store), "tag", str(codebook)], env=ENV)
    assert refused.exit_code != 0 and url in str(refused.exception)
    run("fit", "topics", "fit", "--no-captions", "--seed", "7", "--sample", "180")
    return out
