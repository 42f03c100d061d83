"""Commands that run no model import no model library: `status`, `topics list`, `export`
without a query and a re-index that finds nothing new start in a fraction of a second instead
of paying for torch (bench/cli.py measures them)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.indexer.conftest import write_4cat_zip

# Runs the CLI as `picsift` does, then says on stderr which heavy libraries it imported.
PROBE = """
import sys
from cli.main import main
sys.argv = ["picsift", *sys.argv[1:]]
try:
    main()
finally:
    heavy = ("torch", "transformers", "sentence_transformers", "bertopic", "umap", "sklearn")
    print("imported:", *[name for name in heavy if name in sys.modules], file=sys.stderr)
"""


def picsift(tmp_path, *argv: str) -> tuple[str, set[str]]:
    env = {"PICSIFT_MODEL": "toy", "PICSIFT_CAPTION_MODEL": "none", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, "--store", str(tmp_path / "store"), *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stderr.splitlines() if x.startswith("imported:"))
    return proc.stdout, set(line.split()[1:])


@pytest.mark.slow
def test_commands_that_run_no_model_import_none(tmp_path):
    write_4cat_zip(tmp_path / "a.zip", 8)
    out, imported = picsift(tmp_path, "index", "a.zip")
    assert "8 new images" in out and "torch" in imported  # a run that embeds loads the model
    for argv in (
        ("status",),
        ("topics", "list"),
        ("export", "--out", "posts.csv"),
        ("index", "a.zip"),  # nothing new: no model runs
    ):
        out, imported = picsift(tmp_path, *argv)
        assert not imported, (argv, imported)
    assert "0 new images, 8 already indexed" in out
    out, imported = picsift(tmp_path, "search", "red", "circle")
    assert "images match" in out
    assert "torch" in imported and not imported & {"transformers", "sentence_transformers"}
