"""The command line: every command exists with help, status reports the store."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cli.main import app
from picsift.store.base import PointData
from picsift.store.edge import EdgeStore
from tests.conftest import point_id, unit_vectors

runner = CliRunner()
MAIN = [sys.executable, "-c", "from cli.main import main; main()"]
COMMANDS = ["index", "caption", "ocr", "tag", "topics", "search", "serve", "export", "remove"]
COMMANDS += ["store", "status", "demo"]


def test_help_lists_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output


@pytest.mark.parametrize(
    "argv",
    [[c, "--help"] for c in COMMANDS]
    + [["topics", v, "--help"] for v in ("fit", "assign", "list", "show", "rename", "merge")]
    + [["store", v, "--help"] for v in ("export", "import")],
)
def test_every_command_has_help(argv):
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_status_json_on_an_empty_store(tmp_path):
    EdgeStore(tmp_path / "s").close()
    result = runner.invoke(app, ["--store", str(tmp_path / "s"), "status", "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    assert status == {
        "images": 0,
        "videos": 0,
        "frames": 0,
        "posts": 0,
        "post_links": 0,
        "topics": 0,
        "captioned": 0,
        "text_read": 0,
        "text_languages": [],
        "datasets": {},
        "model": "clip-ViT-B-32",
        "backend": "embedded",
        "store": str((tmp_path / "s").resolve()),
        "topic_run": None,
    }


def test_status_counts_images_posts_datasets_topics(tmp_path):
    with EdgeStore(tmp_path / "s") as store:
        store.ensure("toy", 8)
        vectors = unit_vectors(6, 8)
        store.images.upsert(
            [
                PointData(
                    point_id(i),
                    vectors[i],
                    {
                        "datasets": ["a", "b"] if i < 2 else ["a"],
                        "posts": [
                            {"dataset": d, "post_id": str(i)}
                            for d in (["a", "b"] if i < 2 else ["a"])
                        ],
                        "n_posts": 2 if i < 2 else 1,
                        "caption": "a red circle" if i < 3 else None,
                    },
                )
                for i in range(6)
            ]
        )
        store.topics.upsert(
            [PointData(point_id(t + 1), vectors[t], {"topic": t, "run": "r7"}) for t in (-1, 0, 1)]
        )
    result = runner.invoke(app, ["--store", str(tmp_path / "s"), "status", "--json"])
    status = json.loads(result.output)
    assert (
        status["images"] == 6
        and status["posts"] == status["post_links"] == 8
        and status["captioned"] == 3
    )
    assert status["datasets"] == {"a": 6, "b": 2}
    assert status["topics"] == 2 and status["topic_run"] == "r7"  # -1 (outliers) not a topic
    assert status["model"] == "toy"
    human = runner.invoke(app, ["--store", str(tmp_path / "s"), "status"]).output
    assert "images    6 (3 captioned)" in human and "dataset b: 2 images" in human


def test_errors_are_one_line_and_exit_2(tmp_path):
    env = {"PICSIFT_PORT": "eighty", "PATH": "", "PICSIFT_CONFIG": str(tmp_path / "none.toml")}
    proc = subprocess.run(
        [*MAIN, "status"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: invalid settings:")
    assert "PICSIFT_PORT" in proc.stderr and "Traceback" not in proc.stderr


def test_locked_store_is_reported_not_crashed(tmp_path):
    with EdgeStore(tmp_path / "s", command="picsift serve") as store:
        store.lock.set_url("http://127.0.0.1:8000")
        proc = subprocess.run(
            [*MAIN, "--store", str(tmp_path / "s"), "status"],
            capture_output=True,
            text=True,
        )
    assert proc.returncode == 2
    assert "is open by PID" in proc.stderr and "http://127.0.0.1:8000" in proc.stderr
    assert "does not answer" in proc.stderr  # status tried the server the lock names
