"""The topic map: every image's `xy`, read once per topic run and store change, then binned
(a grid of cells for the zoomed-out view) or paged (points within a box for a zoomed-in view),
so 100k points never travel to the browser at once."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from picsift.store import Filter, ImageStore, IsEmpty


@dataclass
class MapData:
    """Coordinates of the images that have them, in id order."""

    ids: np.ndarray  # object array of id strings
    xy: np.ndarray  # (n, 2) float32
    topic: np.ndarray  # (n,) int32


def load_map(store: ImageStore) -> MapData:
    """Read `xy` and `topic` of every image placed on the map."""
    ids, xy, topics = [], [], []
    if store.exists:
        placed = Filter(must_not=(IsEmpty("xy"),))
        for record in store.images.scroll(placed, with_payload=["xy", "topic"], page_size=5000):
            point = record.payload.get("xy")
            if not point or len(point) != 2:
                continue
            ids.append(record.id)
            xy.append(point)
            topic = record.payload.get("topic")
            topics.append(-1 if topic is None else topic)
    return MapData(
        np.array(ids, dtype=object),
        np.array(xy, dtype=np.float32).reshape(-1, 2),
        np.array(topics, dtype=np.int32),
    )


class TopicMaps:
    """The map of the current state, cached until the topic run or the store changes."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._data: MapData | None = None
        self._lock = threading.Lock()

    def get(self, store: ImageStore, run: str | None, generation: int) -> MapData:
        """The cached map, reloaded when `(run, generation)` differs from last time."""
        with self._lock:
            if self._data is None or self._key != (run, generation):
                self._data = load_map(store)
                self._key = (run, generation)
            return self._data


def select(
    data: MapData, topics: tuple[int, ...], box: tuple[float, float, float, float] | None
) -> np.ndarray:
    """Indexes of the points in `topics` (all when empty) inside `box` (x0, x1, y0, y1)."""
    mask = np.ones(len(data.ids), dtype=bool)
    if topics:
        mask &= np.isin(data.topic, np.array(topics, dtype=np.int32))
    if box is not None:
        x0, x1, y0, y1 = box
        x, y = data.xy[:, 0], data.xy[:, 1]
        mask &= (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    return np.flatnonzero(mask)


def bounds(data: MapData, index: np.ndarray, box) -> dict[str, float] | None:
    """The box asked for, else the extent of the selected points (None when there are none)."""
    if box is not None:
        return dict(zip(("x_min", "x_max", "y_min", "y_max"), map(float, box), strict=True))
    if not len(index):
        return None
    xy = data.xy[index]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    return {
        "x_min": float(lo[0]),
        "x_max": float(hi[0]),
        "y_min": float(lo[1]),
        "y_max": float(hi[1]),
    }


def binned(data: MapData, index: np.ndarray, bins: int, box) -> dict:
    """Points counted on a `bins` x `bins` grid: per non-empty cell its centre, count, most
    common topic and one image id."""
    extent = bounds(data, index, box)
    if extent is None:
        return {"total": 0, "bins": bins, "bounds": None, "cells": []}
    xy = data.xy[index]
    width = max(extent["x_max"] - extent["x_min"], 1e-9)
    height = max(extent["y_max"] - extent["y_min"], 1e-9)
    i = np.clip(((xy[:, 0] - extent["x_min"]) / width * bins).astype(int), 0, bins - 1)
    j = np.clip(((xy[:, 1] - extent["y_min"]) / height * bins).astype(int), 0, bins - 1)
    cell = i * bins + j
    topics = data.topic[index]
    # Sort by (cell, topic) once; then each cell's count and its commonest topic fall out
    # of run lengths, without a Python loop over points.
    order = np.lexsort((topics, cell))
    cell_s, topic_s = cell[order], topics[order]
    changes = (cell_s[1:] != cell_s[:-1]) | (topic_s[1:] != topic_s[:-1])
    starts = np.flatnonzero(np.r_[True, changes])
    run_len = np.diff(np.r_[starts, len(order)])
    cells: dict[int, dict] = {}
    for start, length in zip(starts, run_len, strict=True):
        c = int(cell_s[start])
        entry = cells.setdefault(c, {"count": 0, "topic": 0, "best": -1, "sample": ""})
        entry["count"] += int(length)
        if length > entry["best"]:
            entry["best"], entry["topic"] = int(length), int(topic_s[start])
            entry["sample"] = str(data.ids[index[order[start]]])
    out = []
    for c, entry in sorted(cells.items()):
        ci, cj = divmod(c, bins)
        out.append(
            {
                "i": ci,
                "j": cj,
                "x": extent["x_min"] + (ci + 0.5) * width / bins,
                "y": extent["y_min"] + (cj + 0.5) * height / bins,
                "count": entry["count"],
                "topic": entry["topic"],
                "sample": entry["sample"],
            }
        )
    return {"total": len(index), "bins": bins, "bounds": extent, "cells": out}


def paged(data: MapData, index: np.ndarray, limit: int, offset: int) -> dict:
    """The selected points, `limit` from `offset`, in a stable order."""
    page = index[offset : offset + limit]
    points = [
        {
            "id": str(data.ids[k]),
            "x": float(data.xy[k, 0]),
            "y": float(data.xy[k, 1]),
            "topic": int(data.topic[k]),
        }
        for k in page
    ]
    end = offset + len(page)
    return {
        "total": len(index),
        "offset": offset,
        "next_offset": end if end < len(index) else None,
        "points": points,
    }
