"""`picsift index` groups variants as it goes; `picsift variants [--again]` and the job do it
on demand; the report says how many images are the same picture as another."""

from __future__ import annotations

import csv
import json

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cli.main import app
from picsift.errors import InputError
from picsift.settings import Settings
from picsift.store.edge import EdgeStore
from search.app import create_app
from tests.search.test_api_jobs import wait
from tests.variant_images import corpus


def test_index_groups_variants_and_variants_regroups_on_demand(tmp_path, toy_clip):
    media = tmp_path / "media"
    media.mkdir()
    members = corpus(scenes=3, variants=2, lookalikes=1, seed=8)
    for i, member in enumerate(members):
        member.image.save(media / f"{i}.jpg", quality=92)
    store = ["--store", str(tmp_path / "store"), "--model", "toy"]
    runner = CliRunner()
    indexed = runner.invoke(app, [*store, "index", str(media), "--no-captions"])
    assert indexed.exit_code == 0, indexed.output
    grouped = f"variants: {len(members)} images grouped, {len(members)} of them the same picture"
    assert grouped in indexed.output
    again = runner.invoke(app, [*store, "variants", "--again"])
    assert again.exit_code == 0, again.output
    assert f"dropped the groups of {len(members)} images" in again.output
    assert grouped in again.output
    with EdgeStore(tmp_path / "store") as opened:
        groups = {r.payload["variant"] for r in opened.images.scroll()}
    assert len(groups) == 4  # three pictures and one look-alike, each with its variants

    group = sorted(groups)[0]
    out = tmp_path / "group.csv"
    exported = runner.invoke(app, [*store, "export", "--variant", group, "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3 and {r["variant"] for r in rows} == {group}  # a picture, 2 variants
    assert {r["variant_size"] for r in rows} == {"3"}
    manifest = json.loads((tmp_path / "group.csv.manifest.json").read_text())
    assert manifest["filters"]["variant"] == group
    bad = runner.invoke(app, [*store, "search", "x", "--variant", "../etc"])
    assert isinstance(bad.exception, InputError) and "variant:" in str(bad.exception)

    opened = EdgeStore(tmp_path / "store")
    settings = Settings(store=str(opened.directory))
    with TestClient(create_app(settings, store=opened, encoder=toy_clip)) as client:
        job = wait(client, client.post("/api/jobs/variants", json={"again": True}).json()["url"])
        assert job["state"] == "done", json.dumps(job)
        assert job["result"]["forgotten"] == job["result"]["written"] == len(members)
    opened.close()
