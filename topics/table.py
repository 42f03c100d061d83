"""The topic table: what a fitted topic run leaves in the store and in `PICSIFT_DATA`.

This module is the contract between `topics` (which writes it) and its readers (the search API,
the CLI). Layout:

- The store's topic collection holds the topics of the *current* run only, one point per topic:
  vector = centroid in image space, payload = `TopicInfo` fields (see `to_payload`).
- Each image payload carries `topic` (int, -1 = outlier/unassigned), `topic_score` (float),
  `topic_run` (run id), `topic_by` (`fit` or `assign`) and `xy` ([x, y], its place on the topic
  map).
- `PICSIFT_DATA/topics/<run>/` holds `run.json` (`RunInfo`), the fitted model
  (`model/`, safetensors) and `collages/<topic>.jpg`; `PICSIFT_DATA/topics/current` names the
  current run.
- `model/` holds BERTopic's own files (`bertopic/`, `BERTopic.load` reads them), the reference
  images that place new images on topic and map (`reference.safetensors`) and BERTopic's
  topic numbers -> picsift's stable topic ids (`ids.json`); researcher edits are logged in
  `edits.jsonl` beside `run.json`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from picsift.errors import InputError
from picsift.store import ImageStore

OUTLIER = -1
OUTLIER_LABEL = "outliers"
UNASSIGNED_LABEL = "unassigned"
BOTH_LABEL = "outliers and unassigned"
_TOPIC_NAMESPACE = uuid.UUID("6f0c4f5e-3d1b-4f55-9d7e-2b7c52a1c0de")


@dataclass
class TopicInfo:
    """One topic of the current run."""

    topic: int
    label: str
    keywords: list[str] = field(default_factory=list)
    count: int = 0
    representatives: list[str] = field(default_factory=list)
    run: str = ""
    auto_label: str = ""
    renamed: bool = False
    merged_from: list[int] = field(default_factory=list)
    xy: list[float] = field(default_factory=list)  # centre on the map: mean of its images' xy

    def to_payload(self) -> dict[str, Any]:
        """The topic point's payload."""
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> TopicInfo:
        """Inverse of `to_payload`; unknown keys are ignored."""
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in payload.items() if k in names})


@dataclass
class RunInfo:
    """A topic run as recorded in `run.json`: how it was made and how it relates to the last.

    Topic ids are stable across runs: `kept` maps each topic id this run took over from the
    previous run (as a string, JSON keys are strings) to how many of its images were already
    in it; `merged` maps a topic of this run to the previous topics (two or more) most of
    whose images went into it; `split` maps a previous topic to the topics of this run (two or
    more) that came mostly from it; `new` lists fresh ids, `gone` the previous topics that no
    longer exist. `max_topic` is the highest id any run has used, so no id is ever reused.
    """

    run: str
    created_at: str
    model: str
    n_images: int
    n_fitted: int
    params: dict[str, Any] = field(default_factory=dict)
    previous: str | None = None
    kept: dict[str, int] = field(default_factory=dict)
    merged: dict[str, list[int]] = field(default_factory=dict)
    split: dict[str, list[int]] = field(default_factory=dict)
    new: list[int] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)
    max_topic: int = -1
    # Each `picsift reembed` since the fit: the model whose vectors now place images.
    reembedded: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form."""
        return asdict(self)


def outlier_label(outliers: int, unassigned: int) -> str:
    """Topic -1's label: the fit's outliers and the images placed later that matched no topic
    are different things, and the label names whichever of them it holds."""
    if unassigned > 0 and outliers > 0:
        return BOTH_LABEL
    return UNASSIGNED_LABEL if unassigned > 0 else OUTLIER_LABEL


def topic_point_id(topic: int) -> str:
    """The topic collection's point id of a topic number (stable across runs)."""
    return str(uuid.uuid5(_TOPIC_NAMESPACE, str(topic)))


def topics_dir(data_dir: Path) -> Path:
    """Where topic runs keep their files."""
    return Path(data_dir) / "topics"


def run_dir(data_dir: Path, run: str) -> Path:
    """The folder of one run."""
    return topics_dir(data_dir) / run


def collage_path(data_dir: Path, run: str, topic: int) -> Path:
    """The collage image of a topic."""
    return run_dir(data_dir, run) / "collages" / f"{topic}.jpg"


def current_run(data_dir: Path) -> RunInfo | None:
    """The current run's record, or None before the first fit."""
    pointer = topics_dir(data_dir) / "current"
    if not pointer.is_file():
        return None
    run = pointer.read_text(encoding="utf-8").strip()
    path = run_dir(data_dir, run) / "run.json"
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    names = set(RunInfo.__dataclass_fields__)
    return RunInfo(**{k: v for k, v in data.items() if k in names})


def list_topics(store: ImageStore) -> list[TopicInfo]:
    """Every topic of the current run, largest first, outliers last."""
    if not store.exists:
        return []
    topics = [TopicInfo.from_payload(r.payload) for r in store.topics.scroll()]
    return sorted(topics, key=lambda t: (t.topic == OUTLIER, -t.count, t.topic))


def get_topic(store: ImageStore, topic: int) -> TopicInfo:
    """One topic of the current run.

    Raises:
        InputError: no such topic.
    """
    records = store.topics.retrieve([topic_point_id(topic)]) if store.exists else []
    if not records:
        raise InputError(f"topic: no topic {topic} in the current topic run")
    return TopicInfo.from_payload(records[0].payload)
