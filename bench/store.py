"""Store benchmark: upsert rate, index time, query latency and recall on both backends.

Not a test: prints one table. For each N and vector kind (CLIP-like: clusters in a low-dim
subspace plus noise, like real CLIP embeddings; uniform random: the worst case for HNSW) it
measures, on the embedded (Qdrant Edge) and the server backend (qdrant-client; here its
in-memory stand-in, which is brute force in Python), with the engine's exact search as the
baseline in the same run:

    upsert points/s, optimize time, p50/p95 query ms, p50 filtered query ms (10% selectivity),
    recall@10 and filtered recall@10 against exact numpy search.

    .venv/bin/python bench/store.py                       # 20k and 100k, both kinds, both backends
    .venv/bin/python bench/store.py --sizes 20000 --backends embedded
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from picsift.store import Filter, Match, PointData
from picsift.store.base import ImageStore
from picsift.store.edge import EdgeStore
from picsift.store.server import ServerStore

DIM = 512
DATASETS = 10
BATCH = 1000


def clip_like(n: int, seed: int, clusters: int = 300, subspace: int = 50) -> np.ndarray:
    """Unit vectors in `clusters` clusters spread over a `subspace`-dim subspace, plus noise."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(np.random.default_rng(1).normal(size=(DIM, subspace)))[0].T
    centres = np.random.default_rng(2).normal(size=(clusters, subspace))
    labels = rng.integers(0, clusters, n)
    local = centres[labels] + 0.35 * rng.normal(size=(n, subspace))
    v = local @ basis + 0.08 * rng.normal(size=(n, DIM))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def uniform(n: int, seed: int) -> np.ndarray:
    """Unit vectors uniformly distributed on the sphere."""
    v = np.random.default_rng(seed).normal(size=(n, DIM))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


@dataclass
class Row:
    backend: str
    kind: str
    n: int
    ef: str
    upsert_per_s: float
    index_s: float
    p50: float
    p95: float
    filtered_p50: float
    recall: float
    filtered_recall: float
    exact_p50: float


def _true_top10(data: np.ndarray, queries: np.ndarray, mask: np.ndarray | None) -> list[set[int]]:
    scores = queries @ data.T
    if mask is not None:
        scores[:, ~mask] = -np.inf
    top = np.argpartition(-scores, 10, axis=1)[:, :10]
    return [set(row) for row in top]


def _timed_queries(store: ImageStore, queries, flt, ef, exact=False):
    times, found = [], []
    for q in queries:
        t0 = time.perf_counter()
        hits = store.images.query(
            q, filter=flt, limit=10, hnsw_ef=ef, exact=exact, with_payload=False
        )
        times.append((time.perf_counter() - t0) * 1000)
        found.append({uuid.UUID(h.id).int - 1 for h in hits})
    return times, found


def _recall(found: list[set[int]], truth: list[set[int]]) -> float:
    return statistics.fmean(len(f & t) / 10 for f, t in zip(found, truth, strict=True))


def _open(backend: str, workdir: Path) -> ImageStore:
    if backend == "embedded":
        return EdgeStore(workdir / "store")
    from qdrant_client import QdrantClient

    return ServerStore(QdrantClient(":memory:"), location=":memory:")


def run_one(backend: str, kind: str, n: int, efs: list[int | None], n_queries: int) -> list[Row]:
    make = clip_like if kind == "clip-like" else uniform
    data = make(n, seed=10)
    queries = make(n_queries, seed=11)
    datasets = np.arange(n) % DATASETS
    with tempfile.TemporaryDirectory() as tmp:
        store = _open(backend, Path(tmp))
        store.ensure("bench", DIM)
        t0 = time.perf_counter()
        for start in range(0, n, BATCH):
            store.images.upsert(
                [
                    PointData(
                        str(uuid.UUID(int=i + 1)),
                        data[i],
                        {"posts": [{"dataset": f"d{datasets[i]}"}], "topic": int(i % 50)},
                    )
                    for i in range(start, min(n, start + BATCH))
                ]
            )
        upsert_rate = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        store.images.optimize()
        index_s = time.perf_counter() - t0

        flt = Filter(must=(Match("posts[].dataset", "d3"),))
        truth = _true_top10(data, queries, None)
        ftruth = _true_top10(data, queries, datasets == 3)
        exact_times, _ = _timed_queries(store, queries, None, None, exact=True)
        rows = []
        for ef in efs:
            _timed_queries(store, queries[:10], None, ef)  # warm-up
            times, found = _timed_queries(store, queries, None, ef)
            ftimes, ffound = _timed_queries(store, queries, flt, ef)
            rows.append(
                Row(
                    backend,
                    kind,
                    n,
                    "default" if ef is None else str(ef),
                    upsert_rate,
                    index_s,
                    statistics.median(times),
                    float(np.percentile(times, 95)),
                    statistics.median(ftimes),
                    _recall(found, truth),
                    _recall(ffound, ftruth),
                    statistics.median(exact_times),
                )
            )
        store.close()
    return rows


def print_table(rows: list[Row]) -> None:
    head = (
        "| backend | vectors | N | hnsw_ef | upsert/s | index s | p50 ms | p95 ms "
        "| filtered p50 ms | recall@10 | filtered recall@10 | exact p50 ms (baseline) |"
    )
    print(head)
    print("|" + "---|" * 12)
    for r in rows:
        print(
            f"| {r.backend} | {r.kind} | {r.n:,} | {r.ef} | {r.upsert_per_s:,.0f} | "
            f"{r.index_s:.1f} | {r.p50:.2f} | {r.p95:.2f} | {r.filtered_p50:.2f} | "
            f"{r.recall:.3f} | {r.filtered_recall:.3f} | {r.exact_p50:.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,100000")
    parser.add_argument("--kinds", default="clip-like,random")
    parser.add_argument("--backends", default="embedded,server")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--server-queries", type=int, default=30, help="brute force is slow")
    parser.add_argument(
        "--random-ef", default="default,512", help="hnsw_ef values tried on random vectors"
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    rows: list[Row] = []
    for n in (int(s) for s in args.sizes.split(",")):
        for kind in args.kinds.split(","):
            for backend in args.backends.split(","):
                efs: list[int | None] = [None]
                if kind == "random" and backend == "embedded":
                    efs = [None if e == "default" else int(e) for e in args.random_ef.split(",")]
                nq = args.queries if backend == "embedded" else args.server_queries
                print(f"... {backend} {kind} N={n:,}", file=sys.stderr, flush=True)
                rows.extend(run_one(backend, kind, n, efs, nq))
    print_table(rows)


if __name__ == "__main__":
    main()
