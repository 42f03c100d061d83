"""`picsift topics ...` on an embedded store of toy shapes."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from cli.main import app
from picsift.errors import InputError
from picsift.store.edge import EdgeStore
from tests.topics.conftest import NEW_PER_CLASS, PER_CLASS, add_images

pytestmark = pytest.mark.slow  # fits topics

runner = CliRunner()
N = 12 * PER_CLASS


def cli(store, *argv):
    result = runner.invoke(app, ["--store", str(store), "topics", *argv])
    return result


def test_topics_commands(tmp_path, shapes):
    store_dir = tmp_path / "store"
    with EdgeStore(store_dir) as store:
        add_images(store, store_dir, shapes, range(N))  # PICSIFT_DATA is the store directory
    assert "no topics yet" in cli(store_dir, "list").output
    assert "no topics yet" in cli(store_dir, "assign").output

    result = cli(store_dir, "fit", "--no-captions", "--seed", "7")
    assert result.exit_code == 0, result.output
    assert f"topics fitted on {N:,} images" in result.output

    listed = json.loads(cli(store_dir, "list", "--json").output)
    assert listed["run"] and sum(t["count"] for t in listed["topics"]) == N
    first, second, third = (t["topic"] for t in listed["topics"][:3])
    shown = json.loads(cli(store_dir, "show", str(first), "--json").output)
    assert shown["topic"] == first and shown["collage"].endswith(f"/collages/{first}.jpg")
    assert str(first) in cli(store_dir, "show", str(first)).output

    assert "is now 'protest signs'" in cli(store_dir, "rename", str(first), "protest signs").output
    for hostile in ("\x1b[31mred", "evil\u202egpj.exe"):  # terminal colours, right-to-left
        refused = cli(store_dir, "rename", str(first), hostile)
        assert refused.exit_code != 0 and "control or text-direction" in str(refused.exception)
    result = cli(store_dir, "merge", str(second), str(third), "--label", "two kinds")
    assert f"merged {third} into topic {second} (two kinds)" in result.output, result.output
    listed = json.loads(cli(store_dir, "list", "--json").output)
    labels = {t["topic"]: t["label"] for t in listed["topics"]}
    assert labels[first] == "protest signs" and labels[second] == "two kinds"
    assert third not in labels
    assert "protest signs" in cli(store_dir, "list").output

    with EdgeStore(store_dir) as store:
        add_images(store, store_dir, shapes, range(N, N + 12 * NEW_PER_CLASS))
    result = cli(store_dir, "assign")
    assert result.exit_code == 0 and "images assigned" in result.output, result.output
    counts = re.search(r"(\d+) images assigned, (\d+) like no topic", result.output)
    assert counts and int(counts[1]) + int(counts[2]) == 12 * NEW_PER_CLASS, result.output

    result = cli(store_dir, "fit", "--no-captions")
    assert "since run" in result.output and "topic ids kept" in result.output

    assert isinstance(cli(store_dir, "show", "999").exception, InputError)
    assert isinstance(cli(store_dir, "fit", "--min-topic-size", "1").exception, InputError)
    assert isinstance(cli(store_dir, "merge", str(first)).exception, InputError)
