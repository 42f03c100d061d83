"""Links and names a source should not be trusted with (#23 items 2 and 12): an index job reads
nothing outside its index root through a link or a table path, the CLI follows links but names
where they lead, and zip members named to escape (zip slip) are named in the report, with the
control characters of their names made visible."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
import zipfile

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from cli.main import app
from indexer.reach import display_name
from indexer.records import Failure
from indexer.sources import collect
from picsift.settings import Settings
from picsift.store.edge import EdgeStore
from search.app import create_app
from search.uploads import Limits

runner = CliRunner()


def png(path, color: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 64), color).save(path)
    return path


def image_id(path) -> str:
    """The id a file's bytes are stored under (see `indexer.payloads.image_id`)."""
    return str(uuid.UUID(hex=hashlib.sha256(path.read_bytes()).hexdigest()[:32]))


@pytest.fixture
def jobs(tmp_path, toy_clip):
    """An app whose index jobs may read `root`; `outside` is a folder beside it."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    store = EdgeStore(tmp_path / "store")
    settings = Settings(store=str(store.directory), caption_model="none")
    api = create_app(settings, store=store, encoder=toy_clip, limits=Limits(index_roots=(root,)))
    with TestClient(api) as client:
        client.root, client.outside = root, outside
        yield client
    store.close()


def run_job(client, body: dict) -> dict:
    job = client.post("/api/jobs/index", json={"captions": False, **body}).json()
    deadline = time.monotonic() + 300
    while (job := client.get(job["url"]).json())["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    return job


def test_a_job_does_not_follow_links_out_of_its_root(jobs):
    photos, outside = jobs.root / "photos", jobs.outside
    png(photos / "ok.png", "red")
    secret = png(outside / "secret.png", "blue")
    png(outside / "more" / "deep.png", "green")
    (photos / "escape.png").symlink_to(secret)
    (photos / "away").symlink_to(outside / "more", target_is_directory=True)
    (photos / "alias.png").symlink_to(photos / "ok.png")

    job = run_job(jobs, {"paths": ["photos"]})
    assert job["state"] == "done", job
    report = job["result"]
    assert (report["found"], report["new"]) == (2, 1)
    assert sorted((f["path"], f["reason"]) for f in report["failed"]) == [
        (str(photos / "away"), f"link leads outside the index root: {outside / 'more'}"),
        (str(photos / "escape.png"), f"link leads outside the index root: {secret}"),
    ]
    assert jobs.get("/api/status").json()["images"] == 1
    assert jobs.get(f"/api/images/{image_id(secret)}").status_code == 404
    assert jobs.get(f"/api/images/{image_id(photos / 'ok.png')}/file").status_code == 200


def test_links_inside_the_root_are_followed_to_the_file_checked(tmp_path):
    root = tmp_path / "root"
    photos = root / "photos"
    shared = png(root / "elsewhere" / "shared.png", "yellow")
    (photos / "more").mkdir(parents=True)
    (photos / "near.png").symlink_to(shared)
    (photos / "more" / "up").symlink_to(root / "elsewhere", target_is_directory=True)
    (photos / "more" / "out.png").symlink_to(png(tmp_path / "secret.png", "blue"))

    found = collect([photos], roots=[root])
    assert [item.path for item in found.media] == [shared, shared]
    assert found.failed == [
        Failure(
            str(photos / "more" / "out.png"),
            f"link leads outside the index root: {tmp_path / 'secret.png'}",
        )
    ]
    assert found.warnings == [
        f"photos: followed link {photos / 'near.png'} -> {shared} (outside photos)",
        f"photos: followed link {photos / 'more' / 'up'} -> {root / 'elsewhere'} (outside photos)",
    ]


def test_a_job_refuses_table_paths_out_of_its_root(jobs):
    inside = png(jobs.root / "pics" / "in.png", "red")
    secret = png(jobs.outside / "secret.png", "blue")
    table = jobs.root / "table.csv"
    table.write_text(f"id,image\n1,pics/in.png\n2,{secret}\n", encoding="utf-8")

    job = run_job(jobs, {"paths": ["table.csv"], "image_column": "image"})
    assert job["state"] == "done", job
    report = job["result"]
    assert report["found"] == 1
    assert report["failed"] == [
        {"path": str(secret), "reason": f"outside the index root {jobs.root}"}
    ]
    assert jobs.get(f"/api/images/{image_id(inside)}").status_code == 200
    assert jobs.get(f"/api/images/{image_id(secret)}").status_code == 404


def cli_index(tmp_path, *sources) -> tuple[dict, str]:
    report = tmp_path / "report.json"
    argv = ["--store", str(tmp_path / "store"), "--model", "toy", "index", *map(str, sources)]
    result = runner.invoke(app, [*argv, "--no-captions", "--report", str(report)])
    return json.loads(report.read_text()), result.output


def test_the_cli_follows_links_and_names_where_they_lead(tmp_path):
    folder = tmp_path / "imgs"
    png(folder / "own.png", "red")
    target = png(tmp_path / "elsewhere" / "far.png", "blue")
    png(tmp_path / "elsewhere" / "sub" / "deeper.png", "green")
    (folder / "far.png").symlink_to(target)
    (folder / "sub").symlink_to(tmp_path / "elsewhere" / "sub", target_is_directory=True)
    (folder / "alias.png").symlink_to(folder / "own.png")  # inside the source: nothing to say

    report, output = cli_index(tmp_path, folder)
    assert (report["found"], report["new"], report["failed"]) == (4, 3, [])
    links = sorted(w for w in report["warnings"] if "followed link" in w)
    assert links == [
        f"imgs: followed link {folder / 'far.png'} -> {target} (outside imgs)",
        f"imgs: followed link {folder / 'sub'} -> {tmp_path / 'elsewhere' / 'sub'} (outside imgs)",
    ]
    assert f"followed link {folder / 'far.png'} -> {target}" in output


def test_zip_slip_members_are_named_in_the_report(tmp_path):
    sneaky = "../\x1b[2J\u202egnp.png"
    source = tmp_path / "slip.zip"
    png(tmp_path / "good.png", "red")
    with zipfile.ZipFile(source, "w") as archive:
        for name in ("fine/good.png", "../evil.png", "/etc/abs.png", sneaky):
            archive.writestr(name, (tmp_path / "good.png").read_bytes())

    report, output = cli_index(tmp_path, source)
    assert report["found"] == 1
    reason = "not read: an absolute path or '..' in the name (zip slip)"
    assert sorted(report["failed"], key=lambda f: f["path"]) == [
        {"path": f"{source}!../\\u001b[2J\\u202egnp.png", "reason": reason},
        {"path": f"{source}!../evil.png", "reason": reason},
        {"path": f"{source}!/etc/abs.png", "reason": reason},
    ]
    assert "\x1b" not in output and "\u202e" not in output


def test_display_name_shows_what_a_terminal_would_obey():
    assert display_name("a\x00b\nc\u202ed\u2028e\U000e0001.png") == (
        "a\\u0000b\\u000ac\\u202ed\\u2028e\\U000e0001.png"
    )
    assert display_name("ünïcödé 画像.png") == "ünïcödé 画像.png"
    assert display_name("bad\udcff.jpg") == "bad\\xff.jpg"


def test_a_job_follows_a_link_to_another_folder_of_its_root(jobs):
    """The index root, not the source folder, bounds what a job reads."""
    shared = png(jobs.root / "shared" / "one.png", "red")
    (jobs.root / "photos").mkdir()
    (jobs.root / "photos" / "one.png").symlink_to(shared)
    job = run_job(jobs, {"paths": ["photos"]})
    assert job["state"] == "done", job
    assert (job["result"]["new"], job["result"]["failed"]) == (1, [])
