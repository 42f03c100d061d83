"""Topic benchmark: `fit_topics` on 10k and 100k stored vectors beside the seed notebooks' path.

Not a test: prints one table. Vectors are CLIP-like (512-d, 300 clusters in a 50-d subspace
plus noise, as in bench/store.py), each with a synthetic caption of its cluster's words and
a dated post, stored in a fresh embedded store (upserted and indexed as the indexer leaves it).
Each row runs in its own process, so its peak RSS is its own:

- seed path: `BERTopic(min_topic_size=5).fit_transform(captions, embeddings)` on the same 10k
  vectors, otherwise BERTopic's defaults (its own UMAP neighbour search, no seed, no 2-D map,
  nothing written back);
- picsift fit: `fit_topics` with default `FitParams` (above 50k images it fits a random sample
  of 50k and assigns the rest), including reading the store, the 2-D map, collages, the model
  files and writing every image's topic back; the search-index rebuild that `picsift topics
  fit` runs afterwards is timed apart;
- picsift assign: `assign_topics` on 10k new vectors of the same clusters, after that fit.

    .venv/bin/python bench/topics.py                 # 10k and 100k
    .venv/bin/python bench/topics.py --sizes 10000
    .venv/bin/python bench/topics.py --sizes 1000000 --seed-size 0 --no-index
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DIM = 512
CLUSTERS = 300
NEW = 10_000
BATCH = 1000
CHUNK = 100_000
T0 = 1_700_000_000


def clustered(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors in `CLUSTERS` clusters spread over a 50-d subspace, plus noise; labels.

    Made in chunks of `CHUNK` (float64 intermediates of 1M x 512 would need several GB at
    once); the first chunk draws from `seed` alone, so sizes up to `CHUNK` are as before."""
    basis = np.linalg.qr(np.random.default_rng(1).normal(size=(DIM, 50)))[0].T
    centres = np.random.default_rng(2).normal(size=(CLUSTERS, 50))
    vectors, labels = [], []
    for k, start in enumerate(range(0, n, CHUNK)):
        m = min(CHUNK, n - start)
        rng = np.random.default_rng(seed if k == 0 else (seed, k))
        chunk_labels = rng.integers(0, CLUSTERS, m)
        local = centres[chunk_labels] + 0.35 * rng.normal(size=(m, 50))
        v = local @ basis + 0.08 * rng.normal(size=(m, DIM))
        vectors.append((v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32))
        labels.append(chunk_labels)
    return np.concatenate(vectors), np.concatenate(labels)


def caption(label: int) -> str:
    """Three words shared by a cluster (neighbouring clusters share one), as a caption."""
    return f"a photo of w{label} v{label // 3} u{(label * 7) % CLUSTERS}"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fill(
    store: Any, vectors: np.ndarray, labels: np.ndarray, first: int, index: bool = True
) -> list[str]:
    from picsift.store import PointData

    ids = []
    for start in range(0, len(vectors), BATCH):
        points = []
        for i in range(start, min(len(vectors), start + BATCH)):
            point_id = str(uuid.UUID(int=first + i + 1))
            payload = {
                "caption": caption(int(labels[i])),
                "posts": [{"dataset": "bench", "post_id": str(i), "ts": T0 + i * 60}],
            }
            points.append(PointData(point_id, vectors[i], payload))
            ids.append(point_id)
        store.images.upsert(points)
    if index:
        store.images.optimize()
    return ids


def seed_path(n: int) -> dict[str, Any]:
    """The seed notebooks' BERTopic call on precomputed embeddings."""
    from bertopic import BERTopic
    from sklearn.metrics import adjusted_rand_score

    vectors, labels = clustered(n, seed=10)
    docs = [caption(int(k)) for k in labels]
    t0 = time.perf_counter()
    topics, _ = BERTopic(min_topic_size=5).fit_transform(docs, embeddings=vectors)
    seconds = time.perf_counter() - t0
    found = np.asarray(topics)
    return {
        "path": "seed: BERTopic(min_topic_size=5).fit_transform",
        "n": n,
        "fitted": n,
        "topics": len(set(found.tolist()) - {-1}),
        "outliers": int((found == -1).sum()),
        "ari": adjusted_rand_score(labels, found),
        "seconds": seconds,
        "rate": n / seconds,
        "stages": "fit_transform only",
        "rss": f"{_peak_mb():,.0f}",
    }


class Stages:
    """Wall time from the first to the last progress report of each stage."""

    def __init__(self) -> None:
        self.spans: dict[str, list[float]] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        self.spans.setdefault(stage, [now, now])[1] = now

    def text(self) -> str:
        return ", ".join(f"{s} {b - a:.0f}" for s, (a, b) in self.spans.items() if b - a >= 0.5)


def picsift_path(n: int, index: bool = True) -> list[dict[str, Any]]:
    """fit_topics on n stored vectors, the index rebuild, then assign_topics on 10k new.

    Without `index` the search index is neither built before the fit nor rebuilt after it (at
    1M on two cores one build takes about half an hour, which bench/scale.py measures; the
    fit reads and writes payloads and never searches)."""
    from sklearn.metrics import adjusted_rand_score

    from picsift.store.edge import EdgeStore
    from topics.assign import assign_topics
    from topics.fit import FitParams, fit_topics

    vectors, labels = clustered(n, seed=10)
    new_vectors, new_labels = clustered(NEW, seed=11)
    with tempfile.TemporaryDirectory() as tmp:
        store = EdgeStore(Path(tmp) / "store")
        store.ensure("bench", DIM)
        ids = _fill(store, vectors, labels, 0, index=index)
        stages = Stages()
        before = _peak_mb()
        t0 = time.perf_counter()
        info = fit_topics(store, Path(tmp), FitParams(), progress=stages)
        seconds = time.perf_counter() - t0
        after = _peak_mb()
        t1 = time.perf_counter()
        if index:
            store.images.optimize()
        rebuild = time.perf_counter() - t1
        found = _topics(store, ids)
        fit_row = {
            "path": "picsift fit_topics" + (" (sample 50k, rest assigned)" if n > 50_000 else ""),
            "n": n,
            "fitted": info.n_fitted,
            "topics": info.params["topics"],
            "outliers": int((found == -1).sum()),
            "ari": adjusted_rand_score(labels, found),
            "seconds": seconds,
            "rate": n / seconds,
            "stages": stages.text()
            + (f"; index rebuild after: {rebuild:.0f}" if index else "; no index build"),
            "rss": f"{before:,.0f} -> {after:,.0f}",
        }
        new_ids = _fill(store, new_vectors, new_labels, n, index=index)
        t0 = time.perf_counter()
        report = assign_topics(store, Path(tmp))
        seconds = time.perf_counter() - t0
        new_found = _topics(store, new_ids)
        # A new image is right when it joins the topic most of its cluster's images are in.
        majority = [np.bincount(found[labels == k] + 1).argmax() - 1 for k in range(CLUSTERS)]
        right = float(np.mean(np.array(majority)[new_labels] == new_found))
        store.close()
    assign_row = {
        "path": f"picsift assign_topics, 10k new (after the {n // 1000}k fit)",
        "n": NEW,
        "fitted": "-",
        "topics": "-",
        "outliers": report.unassigned,
        "ari": f"{right:.1%} in their cluster's topic",
        "seconds": seconds,
        "rate": NEW / seconds,
        "stages": "ids, vectors, vote, write",
        "rss": f"{_peak_mb():,.0f}",
    }
    return [fit_row, assign_row]


def _topics(store: Any, ids: list[str]) -> np.ndarray:
    found = {}
    for start in range(0, len(ids), 5000):
        for r in store.images.retrieve(ids[start : start + 5000], with_payload=["topic"]):
            found[r.id] = r.payload["topic"]
    return np.array([found[i] for i in ids])


def _child(job: tuple[str, int, bool], queue: Any) -> None:
    warnings.filterwarnings("ignore")
    kind, n, index = job
    rows = [seed_path(n)] if kind == "seed" else picsift_path(n, index)
    queue.put(rows)


def print_table(rows: list[dict[str, Any]]) -> None:
    print(
        "| path | N | fitted | topics | outliers | ARI (or assign accuracy) | seconds "
        "| images/s | stages (s) | peak RSS MB (before fit -> after) |"
    )
    print("|" + "---|" * 10)
    for r in rows:
        ari = f"{r['ari']:.3f}" if isinstance(r["ari"], float) else r["ari"]
        fitted = f"{r['fitted']:,}" if isinstance(r["fitted"], int) else r["fitted"]
        print(
            f"| {r['path']} | {r['n']:,} | {fitted} | {r['topics']} | {r['outliers']:,} | {ari} "
            f"| {r['seconds']:.1f} | {r['rate']:,.0f} | {r['stages']} | {r['rss']} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--seed-size", type=int, default=10_000, help="0: skip the seed path")
    parser.add_argument(
        "--no-index", action="store_true", help="no search-index builds around the fit"
    )
    args = parser.parse_args()
    jobs = [("seed", args.seed_size, True)] if args.seed_size else []
    jobs += [("picsift", int(s), not args.no_index) for s in args.sizes.split(",")]
    context = mp.get_context("spawn")
    rows: list[dict[str, Any]] = []
    for job in jobs:
        print(f"... {job[0]} N={job[1]:,}", file=sys.stderr, flush=True)
        queue = context.Queue()
        child = context.Process(target=_child, args=(job, queue))
        child.start()
        rows.extend(queue.get())
        child.join()
    print_table(rows)


if __name__ == "__main__":
    main()
