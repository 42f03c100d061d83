"""Scale benchmark: what one embedded store (Qdrant Edge) holds and costs, up to 1M images.

Not a test: prints one table. For each size and storage variant (vectors in RAM, int8
quantization, originals on disk, both) a fresh process builds a store of CLIP-like 512-d vectors
with a realistic payload (posts, topic, caption), closes it, reopens it and answers queries; it
reports build time, disk size, memory, query latency and recall@10 against exact numpy search
(the baseline, computed in the same run).

Memory is split the way the kernel counts it: anonymous memory (the process's own heap, what
must fit in RAM) and file-backed pages (memory-mapped store files, which the kernel can drop
and re-read under pressure). The peak is sampled from outside the child twice a second; the
build's anonymous peak excludes the generated vectors the bench itself holds.

    .venv/bin/python bench/scale.py                          # 100k and 1M, four variants
    .venv/bin/python bench/scale.py --sizes 100000 --variants ram,int8
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.store import DIM, clip_like  # noqa: E402

VARIANTS = {
    "ram": {"on_disk": False, "quantization": "none"},
    "int8": {"on_disk": False, "quantization": "int8"},
    "on-disk": {"on_disk": True, "quantization": "none"},
    "int8+on-disk": {"on_disk": True, "quantization": "int8"},
}
BATCH = 2000
CHUNK = 100_000
QUERIES = 200


def _memory_mb(pid: int | str = "self") -> tuple[float, float]:
    """(anonymous, file-backed) resident memory of a process, MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("RssAnon:", "RssFile:", "RssShmem:")):
            key, value = line.split(":")
            fields[key] = int(value.split()[0]) / 1024
    return fields["RssAnon"], fields["RssFile"] + fields["RssShmem"]


def _run_child(n: int, variant: str) -> dict:
    """Run one child; sample its memory twice a second from here (the engine can hold the
    child's interpreter lock for minutes while it builds, so the child cannot sample itself)."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", str(n), variant],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak_anon = peak_file = 0.0
    while child.poll() is None:
        try:
            anon, file = _memory_mb(child.pid)
        except (OSError, KeyError):
            break
        peak_anon, peak_file = max(peak_anon, anon), max(peak_file, file)
        time.sleep(0.5)
    out, err = child.communicate()
    if child.returncode:
        raise SystemExit(f"N={n} {variant} failed:\n{err[-3000:]}")
    row = json.loads(out.strip().splitlines()[-1])
    row["build_anon_mb"] = peak_anon - row.pop("data_anon_mb")
    row["build_file_mb"] = peak_file
    return row


def _disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def _payload(i: int) -> dict:
    return {
        "sha256": f"{i:064x}",
        "posts": [
            {
                "dataset": f"d{i % 10}",
                "post_id": str(7_300_000_000_000_000_000 + i),
                "author": f"user{i % 5000}",
                "ts": 1_700_000_000 + i,
                "body": "a post about the protest #farmers #tractor",
                "hashtags": ["farmers", "tractor"],
            }
        ],
        "n_posts": 1,
        "caption": "a group of people standing in front of a tractor",
        "topic": i % 200,
    }


def child(n: int, variant: str) -> dict:
    """Build, reopen and query one store; runs in its own process so memory is its own."""
    from picsift.store import PointData
    from picsift.store.edge import EdgeStore

    options = VARIANTS[variant]
    # In chunks: one float64 pass over 1M x 512 would need several GB at once.
    data = np.concatenate(
        [clip_like(min(CHUNK, n - s), seed=10 + s // CHUNK) for s in range(0, n, CHUNK)]
    )
    queries = clip_like(QUERIES, seed=11)
    with tempfile.TemporaryDirectory(dir=ROOT / "bench" / "out") as tmp:
        data_anon, _ = _memory_mb()
        t0 = time.perf_counter()
        with EdgeStore(Path(tmp), **options) as store:
            store.ensure("bench", DIM)
            for start in range(0, n, BATCH):
                stop = min(n, start + BATCH)
                points = [
                    PointData(str(uuid.UUID(int=i + 1)), data[i], _payload(i))
                    for i in range(start, stop)
                ]
                store.images.upsert(points)
            store.images.optimize()
        build_s = time.perf_counter() - t0
        truth = np.argpartition(-(queries @ data.T), 10, axis=1)[:, :10]
        del data
        base = _memory_mb()
        with EdgeStore(Path(tmp), **options) as store:
            opened = _memory_mb()
            times, recall = [], []
            for q, true in zip(queries, truth, strict=True):
                t0 = time.perf_counter()
                hits = store.images.query(q, limit=10, with_payload=False)
                times.append((time.perf_counter() - t0) * 1000)
                found = {uuid.UUID(h.id).int - 1 for h in hits}
                recall.append(len(found & set(true.tolist())) / 10)
            queried = _memory_mb()
        return {
            "n": n,
            "variant": variant,
            "build_s": build_s,
            "data_anon_mb": data_anon,
            "disk_mb": _disk_mb(Path(tmp)),
            "open_mb": [opened[0] - base[0], opened[1] - base[1]],
            "query_mb": [queried[0] - base[0], queried[1] - base[1]],
            "p50_ms": statistics.median(times[10:]),
            "p95_ms": float(np.percentile(times[10:], 95)),
            "recall": statistics.fmean(recall),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--child", nargs=2, metavar=("N", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(int(args.child[0]), args.child[1])))
        return
    (ROOT / "bench" / "out").mkdir(exist_ok=True)
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        for variant in args.variants.split(","):
            print(f"... N={n:,} {variant}", file=sys.stderr, flush=True)
            rows.append(_run_child(n, variant))
    print(
        "| N | storage | build s | build peak MB (anon + file) | disk MB "
        "| after open MB (anon + file) | after queries MB (anon + file) "
        "| p50 ms | p95 ms | recall@10 (vs exact numpy) |"
    )
    print("|" + "---|" * 10)
    for r in rows:
        print(
            f"| {r['n']:,} | {r['variant']} | {r['build_s']:.0f} "
            f"| {r['build_anon_mb']:,.0f} + {r['build_file_mb']:,.0f} | {r['disk_mb']:,.0f} "
            f"| {r['open_mb'][0]:,.0f} + {r['open_mb'][1]:,.0f} "
            f"| {r['query_mb'][0]:,.0f} + {r['query_mb'][1]:,.0f} "
            f"| {r['p50_ms']:.2f} | {r['p95_ms']:.2f} | {r['recall']:.3f} |"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
