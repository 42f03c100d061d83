"""Variant groups on both backends: variants of one picture grouped, look-alikes of the same
scene kept apart, groups grown incrementally with stable ids, frames of one video never joined."""

from __future__ import annotations

import hashlib
import uuid

import numpy as np
import pytest

from indexer.variants import group_variants
from picsift.store import PointData
from picsift.thumbs import write_thumb
from tests.variant_images import corpus, pair_scores

DIM = 16


@pytest.fixture(scope="module")
def members():
    return corpus(scenes=6, variants=2, lookalikes=3, seed=4)


def _vector(group: tuple[int, int], i: int) -> np.ndarray:
    """What a model would give: one scene's pictures close together, look-alikes included,
    so the vectors alone cannot tell a variant from a look-alike."""
    rng = np.random.default_rng(group[0])
    v = rng.normal(size=DIM) + np.random.default_rng(1000 + i).normal(size=DIM) * 0.05
    return (v / np.linalg.norm(v)).astype(np.float32)


def _add(store, data_dir, members, rows, video=None):
    store.ensure("toy", DIM)
    points = []
    for i in rows:
        sha = hashlib.sha256(f"{i}".encode()).hexdigest()
        write_thumb(data_dir, sha, members[i].image)
        payload = {"sha256": sha, "posts": [{"dataset": "d", "post_id": f"p{i}"}]}
        if video:
            payload |= {"sha256": "", "frame_key": sha, "video_sha256": video}
        points.append(PointData(str(uuid.UUID(sha[:32])), _vector(members[i].group, i), payload))
    store.images.upsert(points)
    return [p.id for p in points]


def _groups(store, ids):
    found = {r.id: r.payload for r in store.images.retrieve(ids)}
    return [found[i].get("variant") for i in ids]


def test_variants_are_grouped_and_lookalikes_kept_apart(make_store, tmp_path, members):
    store = make_store()
    ids = _add(store, tmp_path, members, range(len(members)))
    done = group_variants(store, tmp_path)
    assert (done.written, done.failed) == (len(members), [])
    assert done.joined == len(members)  # every picture here has variants
    groups = _groups(store, ids)
    precision, recall = pair_scores([m.group for m in members], groups)
    assert precision == 1.0 and recall >= 0.9
    payloads = {r.id: r.payload for r in store.images.retrieve(ids)}
    for i, group in zip(ids, groups, strict=True):
        assert payloads[i]["variant_size"] == groups.count(group)
        assert len(payloads[i]["phash"]) == 16 and len(payloads[i]["phash_bands"]) == 4


def test_groups_grow_as_images_arrive_and_keep_their_ids(make_store, tmp_path, members):
    store = make_store()
    half = len(members) // 2
    first = _add(store, tmp_path, members, range(0, len(members), 2))
    group_variants(store, tmp_path)
    before = dict(zip(first, _groups(store, first), strict=True))
    later = _add(store, tmp_path, members, range(1, len(members), 2))
    assert group_variants(store, tmp_path).written == len(later) and half <= len(later)
    ids = [first[i // 2] if i % 2 == 0 else later[i // 2] for i in range(len(members))]
    groups = _groups(store, ids)
    precision, recall = pair_scores([m.group for m in members], groups)
    assert precision == 1.0 and recall >= 0.9
    assert all(dict(zip(ids, groups, strict=True))[i] == g for i, g in before.items())
    assert group_variants(store, tmp_path).written == 0  # nothing new: nothing to do


def test_frames_of_one_video_are_never_one_group(make_store, tmp_path, members):
    store = make_store()
    # The same picture twice in one video, and once as an image that matches both frames.
    frames = _add(store, tmp_path, members, [0, 1], video="v" * 64)
    (image,) = _add(store, tmp_path, members, [2])
    assert members[0].group == members[1].group == members[2].group
    group_variants(store, tmp_path)
    first, second, alone = _groups(store, [*frames, image])
    assert first != second and alone in (first, second)


def test_a_removed_dataset_leaves_its_groups_counted_again(tmp_path, members):
    from indexer.cache import IndexCache
    from indexer.remove import remove_dataset
    from picsift.store.edge import EdgeStore

    with EdgeStore(tmp_path / "store") as store:
        kept = _add(store, tmp_path, members, [0, 1])
        gone = _add(store, tmp_path, members, [2])
        store.images.set_payloads(
            [(gone[0], {"datasets": ["other"], "posts": [{"dataset": "other", "post_id": "x"}]})]
        )
        group_variants(store, tmp_path)
        assert {r.payload["variant_size"] for r in store.images.retrieve(kept)} == {3}
        cache = IndexCache(tmp_path)
        try:
            remove_dataset(store, cache, tmp_path, "other")
        finally:
            cache.close()
        assert {r.payload["variant_size"] for r in store.images.retrieve(kept)} == {2}


def test_an_image_indexed_again_rejoins_the_group_named_after_it(tmp_path, members):
    from picsift.store.edge import EdgeStore

    with EdgeStore(tmp_path / "store") as store:
        ids = _add(store, tmp_path, members, [0, 1])
        group_variants(store, tmp_path)
        named = _groups(store, ids)[0]
        first = next(i for i in ids if i == named)  # the image the group is named after
        store.images.delete([first])  # removed, then indexed again (same content, same id)
        _add(store, tmp_path, members, [ids.index(first)])
        group_variants(store, tmp_path)
        assert _groups(store, ids) == [named, named]
        assert {r.payload["variant_size"] for r in store.images.retrieve(ids)} == {2}
