"""Variant-group benchmark: grouping precision and recall, and images/s (not a test).

Generates photo-like pictures (`tests/variant_images.py`: textured scenes of 640x512), each with
variants (re-encoded, resized, cropped up to 15% a side, meme text, colour shifts; one to three
edits each) and, for some scenes, a look-alike: another take of the same scene (objects moved a
few percent, other textures) with variants of its own. A look-alike is a different picture. In
one run it prints pairwise precision and recall of:

  (a) baseline: groups of whole-image pHashes within 10 bits (what hashing alone gives);
  (b) picsift's verifier (`picsift.matching.verify`) on every pair, groups = its connected
      components (the matching itself, whatever proposes the candidates);
  (c) picsift's variant phase end to end (`indexer.variants.group_variants`) on an embedded
      store whose vectors come from a random-initialised ViT-B/32: candidates by vector (here
      without meaning: random weights) and by pHash band, verified as in (b);

with images/s of each. The candidate step's recall with a real CLIP model is not measured here
(no model hub): (c) shows what the hash bands find alone.

    .venv/bin/python bench/variants.py [--scenes 100] [--variants 3] [--lookalikes 50]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.embed import OUT, build_random_clip
from indexer.variants import group_variants
from picsift.matching import features, hamming, verify
from picsift.models.encoder import ClipEncoder
from picsift.models.runtime import choose_runtime, configure_threads
from picsift.store import PointData
from picsift.store.edge import EdgeStore
from picsift.thumbs import write_thumb
from tests.variant_images import corpus, pair_scores


def components(n: int, edges: list[tuple[int, int]]) -> list[int]:
    """Connected components as a label per node."""
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in edges:
        parent[find(a)] = find(b)
    return [find(i) for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenes", type=int, default=100)
    parser.add_argument("--variants", type=int, default=3)
    parser.add_argument("--lookalikes", type=int, default=50)
    args = parser.parse_args()
    configure_threads()
    members = corpus(args.scenes, args.variants, args.lookalikes, seed=1)
    truth = [m.group for m in members]
    n = len(members)
    pairs = n * (n - 1) // 2
    print(
        f"{n} images: {args.scenes} pictures and {args.lookalikes} look-alikes, each with "
        f"{args.variants} variants ({pairs:,} pairs, "
        f"{sum(1 for i in range(n) for j in range(i) if truth[i] == truth[j]):,} of them the "
        "same picture)"
    )
    print("| grouping | precision | recall | images/s | per pair |")
    print("|---|---|---|---|---|")

    t0 = time.perf_counter()
    found = [features(m.image) for m in members]
    feature_s = time.perf_counter() - t0
    edges = [
        (i, j) for i in range(n) for j in range(i) if hamming(found[i].phash, found[j].phash) <= 10
    ]
    p, r = pair_scores(truth, components(n, edges))
    print(f"| (a) whole-image pHash, 10 bits or fewer | {p:.3f} | {r:.3f} | - | - |")

    t0 = time.perf_counter()
    edges = [(i, j) for i in range(n) for j in range(i) if verify(found[i], found[j]).same]
    verify_s = time.perf_counter() - t0
    p, r = pair_scores(truth, components(n, edges))
    print(
        f"| (b) picsift verifier, every pair | {p:.3f} | {r:.3f} | "
        f"{n / feature_s:.0f} (features) | {verify_s / pairs * 1000:.2f} ms |"
    )

    encoder = ClipEncoder(
        str(build_random_clip(OUT / "clip-vit-b-32-random")), runtime=choose_runtime()
    )
    vectors = encoder.embed_images([m.image for m in members])
    with tempfile.TemporaryDirectory() as tmp:
        store = EdgeStore(Path(tmp) / "store")
        store.ensure("random-vit-b-32", vectors.shape[1])
        ids = []
        for i, member in enumerate(members):
            sha = hashlib.sha256(f"{i}".encode()).hexdigest()
            write_thumb(Path(tmp), sha, member.image)
            ids.append(str(uuid.UUID(sha[:32])))
            store.images.upsert([PointData(ids[-1], vectors[i], {"sha256": sha})])
        store.images.optimize()
        t0 = time.perf_counter()
        done = group_variants(store, Path(tmp))
        phase_s = time.perf_counter() - t0
        groups = {r.id: r.payload.get("variant") for r in store.images.retrieve(ids)}
        store.close()
    p, r = pair_scores(truth, [groups[i] for i in ids])
    print(
        f"| (c) picsift variant phase, end to end (random-weight vectors) | {p:.3f} | {r:.3f} | "
        f"{n / phase_s:.1f} | - |"
    )
    print(
        f"({done.written} images grouped, {done.joined} with variants, {len(done.failed)} failed)"
    )


if __name__ == "__main__":
    main()
