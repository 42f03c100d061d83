"""A small zip with a huge member of zeros named like an image: refused by its declared size,
or told not to be an image from its first bytes, without reading it whole."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile

from PIL import Image

from picsift.models.decode import MAX_FILE_BYTES

MIB = 2**20
INDEX = """
import resource, sys
from cli.main import main
try:
    main()
finally:
    sys.stderr.write("PEAK %d\\n" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def write_zeros(archive: zipfile.ZipFile, name: str, size: int) -> None:
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    chunk = bytes(8 * MIB)
    with archive.open(info, "w", force_zip64=True) as member:
        for _ in range(size // len(chunk)):
            member.write(chunk)


def write_good(archive: zipfile.ZipFile) -> None:
    good = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(good, "PNG")
    archive.writestr("good.png", good.getvalue())


def index(tmp_path, source) -> tuple[dict, float]:
    """`picsift index SOURCE` in a fresh process: its report and peak memory (MiB)."""
    store, report = tmp_path / f"store-{source.stem}", tmp_path / f"{source.stem}.json"
    argv = ["--store", str(store), "--model", "toy", "index", str(source), "--no-captions"]
    done = subprocess.run(
        [sys.executable, "-c", INDEX, *argv, "--report", str(report)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    peak = int(re.search(r"PEAK (\d+)", done.stderr).group(1)) / 1024
    return json.loads(report.read_text()), peak


def test_huge_members_fail_alone_without_being_read(tmp_path):
    bomb, plain = tmp_path / "bomb.zip", tmp_path / "plain.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        write_zeros(archive, "huge.jpg", MAX_FILE_BYTES + 8 * MIB)
        write_zeros(archive, "zeros.jpg", 128 * MIB)
        write_good(archive)
    with zipfile.ZipFile(plain, "w") as archive:
        write_good(archive)
    assert bomb.stat().st_size < 2 * MIB
    report, peak = index(tmp_path, bomb)
    assert report["new"] == 1
    reasons = {f["path"].rsplit("!", 1)[1]: f["reason"] for f in report["failed"]}
    assert reasons["huge.jpg"].startswith("too large: ")
    assert reasons["zeros.jpg"] == "not an image (unknown format)"
    _, baseline = index(tmp_path, plain)
    assert peak < baseline + 64, (peak, baseline)  # neither member was held in memory


def test_a_metadata_member_larger_than_any_4cat_writes_is_refused(tmp_path, monkeypatch):
    from indexer import listing
    from indexer.media import scan_media

    monkeypatch.setattr(listing, "MAX_METADATA_BYTES", 4 * MIB)
    source = tmp_path / "m.zip"
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as archive:
        write_zeros(archive, ".metadata.json", 8 * MIB)
        write_good(archive)
    result = scan_media(source, None)
    assert [f.reason for f in result.failed] == ["too large: 8,388,608 bytes"]
    assert [item.member for item in result.media] == ["good.png"]
