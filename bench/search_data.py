"""The search benchmark's data: a random ViT-B/32 CLIP with a word-level tokenizer, a store of
N CLIP-like vectors with posts, topics and map places, and never-repeating query texts."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import numpy as np

from bench.store import clip_like
from indexer.text_vectors import text_vectors
from picsift.store import PointData
from picsift.store.edge import EdgeStore
from topics.table import RunInfo, TopicInfo, run_dir, topic_point_id, topics_dir

TOPICS = 50
DATASETS = 10
AUTHORS = 2000
BATCH = 2000
WORDS = (  # noqa: SIM905 (a sentence of words reads better than a column of strings)
    "farmers protest tractor highway police flag crowd banner city night fire smoke street "
    "march election poster meme screenshot selfie dog cat beach mountain snow car train "
    "stadium concert food church school hospital border boat soldier child woman man"
).split()


def build_word_clip(source: Path, path: Path) -> Path:
    """The random ViT-B/32 CLIP with a word-level tokenizer over WORDS: queries then have as
    many tokens as CLIP's real BPE gives such words (one each), where the character-level
    tokenizer of bench/embed.py would make them 4-5 times longer (and dearer to encode)."""
    if (path / "tokenizer.json").exists():
        return path
    from transformers import CLIPImageProcessor, CLIPProcessor, CLIPTokenizer

    path.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "model.safetensors"):
        if not (path / name).exists():
            (path / name).symlink_to((source / name).resolve())
    vocab = {"<|startoftext|>": 49406, "<|endoftext|>": 49407}
    merges: list[tuple[str, str]] = []

    def add(token: str) -> None:
        vocab.setdefault(token, len(vocab) - 2)

    for word in [*WORDS, "and"]:
        for c in word[:-1]:
            add(c)
        add(word[-1] + "</w>")
        prefix = word[0]
        for i, c in enumerate(word[1:], 1):
            piece = c + "</w>" if i == len(word) - 1 else c
            if (prefix, piece) not in merges:
                merges.append((prefix, piece))
            prefix += piece
            add(prefix)
    tokenizer = CLIPTokenizer(vocab=vocab, merges=merges)
    CLIPProcessor(image_processor=CLIPImageProcessor(), tokenizer=tokenizer).save_pretrained(path)
    return path


def _payload(i: int, topic: int, xy: np.ndarray, run: str) -> dict:
    """Image `i`: one post (dataset, author, time, text, hashtag), a caption, topic, map place."""
    ts = 1_600_000_000 + i * 997 % 100_000_000
    dataset, word = f"d{i % DATASETS}", WORDS[i % len(WORDS)]
    post = {"dataset": dataset, "post_id": str(7 * 10**18 + i), "author": f"user{i % AUTHORS}"}
    post |= {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts)), "ts": ts}
    post |= {"url": f"https://example.org/p/{i}", "body": f"post about {word}", "hashtags": [word]}
    return {
        "sha256": f"{i:064x}",
        "posts": [post],
        "datasets": [dataset],
        "n_posts": 1,
        "caption": f"a photo of a {WORDS[i * 3 % len(WORDS)]}",
        "topic": topic,
        "topic_score": 0.8,
        "topic_run": run,
        "topic_by": "fit",
        "xy": [float(xy[0]), float(xy[1])],
    }


def build_store(path: Path, model_dir: Path, n: int) -> None:
    """N CLIP-like vectors with posts, topics (clusters folded into 50), map places and the
    text vectors of their posts and captions (a store built before those gets them)."""
    if (path / "qdrant").exists():
        with EdgeStore(path) as store:
            if not store.has_text_vectors:
                store.add_text_vectors()
                text_vectors(store)
                store.images.optimize()
        return
    vectors = clip_like(n, seed=10)
    rng = np.random.default_rng(4)
    topic_of = rng.integers(0, TOPICS, n)
    centres = rng.normal(scale=20, size=(TOPICS, 2))
    xy = centres[topic_of] + rng.normal(size=(n, 2))
    run = "bench-run"
    with EdgeStore(path) as store:
        store.ensure(str(model_dir.resolve()), vectors.shape[1])
        for start in range(0, n, BATCH):
            points = []
            for i in range(start, min(n, start + BATCH)):
                payload = _payload(i, int(topic_of[i]), xy[i], run)
                points.append(PointData(str(uuid.UUID(int=i + 1)), vectors[i], payload))
            store.images.upsert(points)
        store.images.optimize()
        topic_points = []
        for t in range(TOPICS):
            centroid = vectors[topic_of == t].mean(axis=0)
            info = TopicInfo(t, f"topic {t}", [WORDS[t % len(WORDS)]], int((topic_of == t).sum()))
            info.run = run
            topic_points.append(
                PointData(topic_point_id(t), centroid / np.linalg.norm(centroid), info.to_payload())
            )
        store.topics.upsert(topic_points)
        text_vectors(store)
        store.images.optimize()
    run_dir(path, run).mkdir(parents=True, exist_ok=True)
    info = RunInfo(run, "2026-01-01T00:00:00+00:00", str(model_dir), n, n, {"bench": True})
    (run_dir(path, run) / "run.json").write_text(json.dumps(info.to_dict()))
    (topics_dir(path) / "current").write_text(run)


class Queries:
    """Distinct query texts of 3-4 words (never repeated, so the server's text cache never
    hits); `seed` keeps the streams of different measurements apart."""

    def __init__(self, seed: int, used: set[str]):
        self.rng = np.random.default_rng(seed)
        self.used = used
        self.lock = threading.Lock()

    def next(self) -> str:
        with self.lock:
            while True:
                words = list(self.rng.choice(WORDS, size=3, replace=False))
                if self.rng.random() < 0.5:
                    words.insert(2, "and")
                text = " ".join(words)
                if text not in self.used:
                    self.used.add(text)
                    return text
