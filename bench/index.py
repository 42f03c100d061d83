"""Indexing benchmark: end-to-end `picsift index` rate beside the seed path's encode-only rate.

Not a test: prints one table. With a random-initialised ViT-B/32 (the real model's
architecture, built by bench/embed.py) it indexes N generated 720x1280 JPEGs into a fresh
embedded store (hash, decode, embed, thumbnail, upsert), measures the seed notebooks' path
(`SentenceTransformer.encode` on full-size PIL images, fp32, encode only) on a sample in the
same run, then times an unchanged re-run of the same N images.

    .venv/bin/python bench/index.py [--images 1000] [--seed-sample 200]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from embed import OUT, baseline, build_random_clip, write_images  # noqa: E402

from indexer.cache import IndexCache  # noqa: E402
from indexer.media import MediaReader, scan_media  # noqa: E402
from indexer.pipeline import Indexer  # noqa: E402
from picsift.models.encoder import ClipEncoder  # noqa: E402
from picsift.models.runtime import choose_runtime, configure_threads  # noqa: E402
from picsift.store.edge import EdgeStore  # noqa: E402


def run_index(folder: Path, store_dir: Path, encoder: ClipEncoder) -> tuple[float, dict]:
    """Scan the folder and index it; returns (seconds, report)."""
    t0 = time.perf_counter()
    scan = scan_media(folder, "bench")
    cache = IndexCache(store_dir)
    with EdgeStore(store_dir) as store, MediaReader() as reader:
        report = Indexer(store, encoder, cache, store_dir, read=reader.read).run(scan.media, [])
    cache.close()
    return time.perf_counter() - t0, report.to_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--seed-sample", type=int, default=200)
    args = parser.parse_args()
    cores = configure_threads()
    runtime = choose_runtime()
    clip_dir = build_random_clip(OUT / "clip-vit-b-32-random")
    paths = write_images(OUT / "jpegs-720x1280", args.images)
    encoder = ClipEncoder(str(clip_dir), runtime=runtime)
    model = encoder.model
    baseline(model, paths[:8])  # warm-up

    t0 = time.perf_counter()
    baseline(model, paths[: args.seed_sample])
    seed_rate = args.seed_sample / (time.perf_counter() - t0)

    with tempfile.TemporaryDirectory() as tmp:
        store_dir = Path(tmp) / "store"
        first_s, first = run_index(paths[0].parent, store_dir, encoder)
        rerun_s, rerun = run_index(paths[0].parent, store_dir, encoder)
    assert first["new"] == len(paths) and rerun["known"] == len(paths), (first, rerun)

    rate = len(paths) / first_s
    print(f"CPU threads: {cores}; runtime: {runtime.precision} ({runtime.reason})")
    print("| measure | images | seconds | images/s | vs seed encode-only |")
    print("|---|---|---|---|---|")
    print(
        f"| seed path: encode only (full-size PIL, fp32) | {args.seed_sample} | "
        f"{args.seed_sample / seed_rate:.1f} | {seed_rate:.1f} | 1.00 |"
    )
    print(
        f"| picsift index, end to end (hash, decode, embed, thumbnail, upsert) | {len(paths)} | "
        f"{first_s:.1f} | {rate:.1f} | {rate / seed_rate:.2f} |"
    )
    print(f"| picsift index, unchanged re-run | {len(paths)} | {rerun_s:.2f} | - | - |")


if __name__ == "__main__":
    main()
