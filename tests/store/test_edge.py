"""Embedded-backend specifics: persistence, single-process ownership, crash safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from picsift.errors import StoreLockedError
from picsift.store.base import PointData
from picsift.store.edge import EdgeStore
from picsift.store.lock import read_holder
from tests.conftest import point_id, unit_vectors

DIM = 16


def _fill(store: EdgeStore, n: int, start: int = 0) -> None:
    vectors = unit_vectors(n, DIM, seed=start)
    store.images.upsert(
        [PointData(point_id(start + i), vectors[i], {"i": start + i}) for i in range(n)]
    )


def test_reopen_keeps_every_point(tmp_path):
    store = EdgeStore(tmp_path / "s")
    store.ensure("toy", DIM)
    for start in range(0, 10_000, 2_000):
        _fill(store, 2_000, start)
    store.images.optimize()
    store.close()

    store = EdgeStore(tmp_path / "s")
    try:
        assert store.meta is not None and store.meta.model == "toy"
        assert store.images.count() == 10_000
        ids = {r.id for r in store.images.scroll(with_payload=False, page_size=2500)}
        assert ids == {point_id(i) for i in range(10_000)}
    finally:
        store.close()


def test_second_opener_in_this_process_is_refused(tmp_path):
    held = rf"open by PID {os.getpid()} \(`picsift index`"
    with (
        EdgeStore(tmp_path / "s", command="picsift index"),
        pytest.raises(StoreLockedError, match=held),
    ):
        EdgeStore(tmp_path / "s")
    EdgeStore(tmp_path / "s").close()  # released on close


_HOLDER = textwrap.dedent(
    """
    import sys, time
    from picsift.store.edge import EdgeStore
    from tests.conftest import point_id, unit_vectors
    from picsift.store.base import PointData
    store = EdgeStore(sys.argv[1], command="picsift serve")
    store.ensure("toy", 16)
    vectors = unit_vectors(500, 16)
    store.images.upsert([PointData(point_id(i), v, {}) for i, v in enumerate(vectors)])
    store.lock.set_url("http://127.0.0.1:8765")
    print("ready", flush=True)
    time.sleep(float(sys.argv[2]))
    """
)


def _start_holder(path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_second_process_gets_a_clear_message(tmp_path):
    proc = _start_holder(tmp_path / "s", 30)
    try:
        with pytest.raises(StoreLockedError) as err:
            EdgeStore(tmp_path / "s")
        message = str(err.value)
        assert f"open by PID {proc.pid}" in message
        assert "`picsift serve` at http://127.0.0.1:8765" in message
        assert read_holder(tmp_path / "s")["url"] == "http://127.0.0.1:8765"
    finally:
        proc.terminate()
        proc.wait()


def test_killed_holder_leaves_a_usable_store(tmp_path):
    proc = _start_holder(tmp_path / "s", 30)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while True:  # the kernel drops the flock with the process
        try:
            store = EdgeStore(tmp_path / "s")
            break
        except StoreLockedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    try:
        assert store.images.count() == 500  # written through the WAL before the kill
    finally:
        store.close()


def test_int8_quantized_store_keeps_recall_and_reopens(tmp_path):
    n, dim = 12_000, 512  # above the indexing threshold (10 MB): a quantized HNSW index answers
    # Clusters in a subspace plus noise, like CLIP embeddings: dense enough in near-ties that
    # int8 alone misorders some neighbours (recall 0.95); rescoring must repair that.
    rng = np.random.default_rng(5)
    centres = rng.normal(size=(40, 48))
    local = centres[rng.integers(0, 40, n)] + 0.35 * rng.normal(size=(n, 48))
    vectors = local @ rng.normal(size=(48, dim)) + 0.5 * rng.normal(size=(n, dim))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    with EdgeStore(tmp_path / "q", quantization="int8") as store:
        store.ensure("toy", dim)
        for start in range(0, n, 2000):
            store.images.upsert(
                [PointData(point_id(i), vectors[i], {"i": i}) for i in range(start, start + 2000)]
            )
        store.images.optimize()
    queries = vectors[:20]
    with EdgeStore(tmp_path / "q", quantization="int8") as store:
        found = 0
        for q in queries:
            truth = {point_id(int(i)) for i in np.argsort(-(vectors @ q))[:10]}
            found += len(truth & {h.id for h in store.images.query(q, limit=10, hnsw_ef=128)})
    assert found / (10 * len(queries)) >= 0.99  # rescored with the original vectors
    assert any((tmp_path / "q" / "qdrant").rglob("*quantiz*")), "no quantized vectors on disk"
