"""Bad input never stops a run nor loses good items; a killed run is completed by the next."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from cli.main import app
from picsift.models import decode
from picsift.store.edge import EdgeStore
from tests.indexer.conftest import shape_images
from tests.models.test_decode_limits import _damaged_zip

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
# The CLI as a terminal starts it. In full runs the child twice slept on in `watch` after
# SIGINT (its stack, from faulthandler on SIGUSR1): it must have inherited SIGINT ignored (a
# fork while another thread of pytest is inside C's system() would). A terminal's picsift
# has Python's own handler: so does this one.
WATCHED_MAIN = (
    "import faulthandler, signal; faulthandler.register(signal.SIGUSR1); "
    "signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from cli.main import main; main()"
)


def _index(store: Path, *args: str) -> tuple[dict, str]:
    report = store.parent / "report.json"
    argv = ["--store", str(store), "--model", "toy", "index", *args, "--no-captions"]
    result = runner.invoke(app, [*argv, "--report", str(report)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(report.read_text()), result.output


def _awkward_folder(folder: Path) -> dict[str, str]:
    """Good images in every awkward form, and broken files; returns {bad name: reason part}."""
    folder.mkdir()
    imgs = [img for img, _, _ in shape_images(8, seed=5)]
    imgs[0].save(folder / "plain.jpg")
    imgs[1].save(folder / "really a png.jpeg", "PNG")  # PNG named .jpeg, space in name
    imgs[2].convert("CMYK").save(folder / "cmyk.jpg")
    Image.fromarray((np.asarray(imgs[3].convert("L")) * 200).astype(np.uint16)).save(
        folder / "sixteen.png"
    )
    imgs[4].save(folder / "anim.gif", save_all=True, append_images=[imgs[5]])
    exif = Image.Exif()
    exif[0x0112] = 6
    imgs[6].resize((200, 120)).save(folder / "rotated.jpg", exif=exif)
    (folder / "ünïcødé 画像").mkdir()
    imgs[7].save(folder / "ünïcødé 画像" / "фото 1.webp")
    (folder / "zero.jpg").write_bytes(b"")
    (folder / "text.jpg").write_text("<html>403 Forbidden</html>")
    buf = io.BytesIO()
    imgs[0].resize((300, 300)).save(buf, "JPEG")
    (folder / "truncated.jpg").write_bytes(buf.getvalue()[:400])
    big = Image.new("RGB", (3000, 3000), (10, 200, 10))
    big.save(folder / "bomb.png")
    return {
        "zero.jpg": "empty file",
        "text.jpg": "not an image",
        "truncated.jpg": "cannot decode",
        "bomb.png": "limit",
    }


def test_awkward_and_broken_files(tmp_path, monkeypatch):
    monkeypatch.setattr(decode, "MAX_PIXELS", 2_000_000)
    bad = _awkward_folder(tmp_path / "corpus")
    report, output = _index(tmp_path / "store", str(tmp_path / "corpus"))
    assert report["found"] == 11 and report["new"] == 7
    reasons = {Path(f["path"]).name: f["reason"] for f in report["failed"]}
    assert set(reasons) == set(bad)
    for name, part in bad.items():
        assert part in reasons[name], (name, reasons[name])
    assert "failed" in output
    with EdgeStore(tmp_path / "store") as store:
        payloads = {
            Path(r.payload["files"][0]["path"]).name: r.payload for r in store.images.scroll()
        }
    assert payloads["rotated.jpg"]["width"] == 120 and payloads["rotated.jpg"]["height"] == 200
    assert payloads["really a png.jpeg"]["format"] == "png"
    assert payloads["anim.gif"]["format"] == "gif"
    assert "фото 1.webp" in payloads


def test_damaged_zip_members_fail_alone_in_a_run(tmp_path):
    """Bad CRC, broken deflate and encrypted members are failed items, found while hashing;
    the good members are indexed and the run ends normally."""
    _damaged_zip(tmp_path / "damaged.zip")
    report, _ = _index(tmp_path / "store", str(tmp_path / "damaged.zip"))
    reasons = {f["path"].rsplit("!", 1)[1]: f["reason"] for f in report["failed"]}
    assert set(reasons) == {"crc.png", "deflate.png", "secret.png"}, report["failed"]
    assert all(reason.startswith("cannot read: ") for reason in reasons.values())
    assert report["new"] == 1  # good1.png and good2.png are the same image


def test_image_column_table(tmp_path):
    media = tmp_path / "media" / "images"
    media.mkdir(parents=True)
    rows = ["id,image_file,body"]
    for i, (img, c, s) in enumerate(shape_images(4, seed=8)):
        img.save(media / f"{7000000000000000000 + i}.jpg", "PNG")  # renamed, really PNG
        rows.append(f"{7000000000000000000 + i},media/images/{7000000000000000000 + i}.jpg,{c} {s}")
    rows.append("7000000000000000009,media/images/gone.jpg,lost")
    (tmp_path / "posts.csv").write_text("\n".join(rows) + "\n")
    report, _ = _index(
        tmp_path / "store", str(tmp_path / "posts.csv"), "--image-column", "image_file"
    )
    assert report["new"] == 4
    assert [Path(f["path"]).name for f in report["failed"]] == ["gone.jpg"]
    with EdgeStore(tmp_path / "store") as store:
        posts = [p for r in store.images.scroll() for p in r.payload["posts"]]
    assert {p["post_id"] for p in posts} == {str(7000000000000000000 + i) for i in range(4)}
    assert all(p["dataset"] == "posts" for p in posts)


_SLOW_INDEX = """
import sys, time
from picsift.models import encoder
real = encoder.ClipEncoder.embed_images
def slow(self, images):
    time.sleep(0.4)
    return real(self, images)
encoder.ClipEncoder.embed_images = slow
from cli.main import main
sys.argv = ["picsift", *sys.argv[1:]]
main()
"""


def test_kill_9_mid_run_then_rerun_completes_without_duplicates(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for i, (img, _, _) in enumerate(shape_images(48, seed=9)):
        img.save(folder / f"{i:03d}.png")
    store = tmp_path / "store"
    argv = ["--store", str(store), "--model", "toy", "index", str(folder), "--no-captions"]
    argv += ["--batch-size", "8"]
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_INDEX, *argv],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    thumbs = store / "thumbs"
    deadline = time.monotonic() + 120
    # Thumbnails are written just before their batch: 9 means the first batch is stored.
    while sum(1 for _ in thumbs.rglob("*.jpg")) < 9:
        assert proc.poll() is None, "indexing finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with EdgeStore(store) as s:
        partial = s.images.count()
    assert 0 < partial < 48
    report, _ = _index(store, str(folder))
    assert report["new"] == 48 - partial and report["known"] == partial
    with EdgeStore(store) as s:
        rows = list(s.images.scroll())
    assert len(rows) == 48 and len({r.payload["sha256"] for r in rows}) == 48
    assert all(len(r.payload["files"]) == 1 for r in rows)


def test_watch_indexes_files_as_they_arrive(tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    images = [img for img, _, _ in shape_images(5, seed=13)]
    images[0].save(folder / "first.png")
    store = tmp_path / "store"
    argv = ["--store", str(store), "--model", "toy", "index", str(folder), "--no-captions"]
    argv += ["--watch", "--interval", "0.3"]
    proc = subprocess.Popen(
        [sys.executable, "-c", WATCHED_MAIN, *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    thumbs = store / "thumbs"

    def wait_for(n: int) -> None:
        deadline = time.monotonic() + 60
        while sum(1 for _ in thumbs.rglob("*.jpg")) < n:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)

    wait_for(1)
    for i, img in enumerate(images[1:]):
        img.save(folder / f"later-{i}.tmp.png")
    (folder / "broken.jpg").write_bytes(b"\\x00" * 10)
    wait_for(5)
    proc.send_signal(signal.SIGINT)
    try:
        output, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGUSR1)  # faulthandler: every thread's stack, then fail
        time.sleep(2)
        proc.kill()
        pytest.fail(f"--watch did not stop on Ctrl-C:\n{proc.communicate()[0]}")
    assert proc.returncode == 0, output
    assert "stopped watching" in output and "4 new images" in output
    with EdgeStore(store) as s:
        assert s.images.count() == 5
