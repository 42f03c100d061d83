"""Scale benchmark: what one embedded store (Qdrant Edge) holds and costs, up to 1M images.

Not a test: prints one table. For each size and storage variant (vectors in RAM, int8
quantization, originals on disk, both) a fresh process builds a store of CLIP-like 512-d vectors
with a realistic payload (posts, topic, caption), closes it, reopens it and answers queries; it
reports build time, disk size, resident memory after reopening and after the queries, query
latency and recall@10 against exact numpy search (the baseline, computed in the same run).

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


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


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
        base = _rss_mb()
        with EdgeStore(Path(tmp), **options) as store:
            opened = _rss_mb() - base
            times, recall = [], []
            for q, true in zip(queries, truth, strict=True):
                t0 = time.perf_counter()
                hits = store.images.query(q, limit=10, with_payload=False)
                times.append((time.perf_counter() - t0) * 1000)
                found = {uuid.UUID(h.id).int - 1 for h in hits}
                recall.append(len(found & set(true.tolist())) / 10)
            queried = _rss_mb() - base
        return {
            "n": n,
            "variant": variant,
            "build_s": build_s,
            "disk_mb": _disk_mb(Path(tmp)),
            "rss_open_mb": opened,
            "rss_query_mb": queried,
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
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(n), variant],
                check=True,
                capture_output=True,
                text=True,
            )
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(
        "| N | storage | build s | disk MB | RSS after open MB | RSS after queries MB "
        "| p50 ms | p95 ms | recall@10 (vs exact numpy) |"
    )
    print("|" + "---|" * 9)
    for r in rows:
        print(
            f"| {r['n']:,} | {r['variant']} | {r['build_s']:.0f} | {r['disk_mb']:,.0f} | "
            f"{r['rss_open_mb']:,.0f} | {r['rss_query_mb']:,.0f} | {r['p50_ms']:.2f} | "
            f"{r['p95_ms']:.2f} | {r['recall']:.3f} |"
        )


if __name__ == "__main__":
    main()
