"""Text vectors in the store (#19), both backends: BM25 of each image's text per language,
made by the text phase only where the text changed, fused with the image vectors by
reciprocal rank in the engine; a store made before them (schema 1) gains them in place."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pytest

from indexer.text_vectors import text_vectors
from picsift.store import PointData
from picsift.store.records import Leg
from picsift.text import Bm25Texts, image_text

DIM = 8
TEXTS = {
    "traktor": {"ocr": {"text": "Traktoren blockieren die Autobahn"}, "caption": "a road"},
    "bauern": {"posts": [{"body": "Bauern protestieren mit dem Traktor", "hashtags": ["bauern"]}]},
    "sign": {"caption": "a red circle on a sign"},
    "farmers": {
        "posts": [{"body": "", "extra": {"Audio transcription": "farmers block the highway"}}]
    },
    "nothing": {},
}


def pid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def vector(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def fill(store) -> None:
    store.ensure("test-model", DIM)
    store.images.upsert(
        [PointData(pid(n), vector(i), payload) for i, (n, payload) in enumerate(TEXTS.items())]
    )


def names_of(hits) -> list[str]:
    by_id = {pid(n): n for n in TEXTS}
    return [by_id[h.id] for h in hits]


def test_the_text_of_an_image_reads_every_part_once():
    payload = {
        "ocr": {"text": "Wir sind das Volk"},
        "caption": "a crowd",
        "posts": [
            {"body": "Demo heute", "hashtags": ["demo", "berlin"], "extra": {"Transcript": "hi"}},
            {"body": "Demo heute", "hashtags": ["demo", "berlin"], "extra": {"likes": "4"}},
        ],
    }
    text = image_text(payload)
    assert text.parts == {
        "ocr": ["Wir sind das Volk"],
        "caption": ["a crowd"],
        "body": ["Demo heute"],
        "hashtags": ["demo berlin"],
        "transcript": ["hi"],
    }
    assert not text.truncated and "likes" not in text.text


def test_text_vectors_are_made_once_and_again_when_the_text_changes(make_store):
    store = make_store()
    fill(store)
    assert text_vectors(store) == len(TEXTS)
    assert text_vectors(store) == 0  # nothing changed: nothing written
    store.images.set_payloads([(pid("sign"), {"caption": "a tractor on a sign"})])
    assert text_vectors(store) == 1


def test_a_query_matches_every_form_of_its_stem(make_store):
    store = make_store()
    fill(store)
    text_vectors(store)
    query = Bm25Texts(store.meta.text_languages).query("Traktor")
    hits = store.images.sparse_query(query["bm25-german"], "bm25-german", limit=10)
    assert set(names_of(hits)) == {"traktor", "bauern"}  # Traktoren, Traktor
    english = store.images.sparse_query(
        Bm25Texts(["english"]).query("farmer")["bm25-english"], "bm25-english", limit=10
    )
    assert names_of(english) == ["farmers"]  # from the transcript column


def test_fusion_ranks_by_reciprocal_rank_on_both_backends(make_store):
    store = make_store()
    fill(store)
    text_vectors(store)
    query = Bm25Texts(store.meta.text_languages).query("Traktor Autobahn")
    legs = [Leg(vector(0), None, 10)] + [Leg(v, n, 10) for n, v in query.items()]
    hits = store.images.fuse(legs, k=60, limit=5)
    # "traktor" is first by its image vector (vector(0)) and by its text in both languages
    # (English keeps "traktoren" and "autobahn" as words): 1 / (60 + 0) three times.
    assert names_of(hits)[0] == "traktor"
    assert hits[0].score == pytest.approx(3 / 60, abs=1e-6)
    assert set(names_of(hits)) == set(TEXTS)  # the dense leg reaches every point


def test_a_cut_leg_keeps_only_what_scores_above_it(make_store):
    store = make_store()
    fill(store)
    text_vectors(store)
    query = Bm25Texts(["german"]).query("Traktor")["bm25-german"]
    hits = store.images.fuse([Leg(query, "bm25-german", 10, score_threshold=1e-6)], k=60, limit=5)
    assert set(names_of(hits)) == {"traktor", "bauern"}


def test_a_store_made_before_text_vectors_gains_them_in_place(make_store):
    old = make_store(text_languages=())
    fill(old)
    assert not old.has_text_vectors and old.meta.text_languages == ()
    store = make_store(text_languages=("german", "english"))  # reopened: still schema 1
    assert not store.has_text_vectors
    meta = store.add_text_vectors()
    assert (meta.schema_version, meta.text_languages) == (2, ("german", "english"))
    assert text_vectors(store) == len(TEXTS)
    again = make_store()
    assert again.has_text_vectors and again.meta == meta
    query = Bm25Texts(["german"]).query("Traktor")["bm25-german"]
    assert set(names_of(again.images.sparse_query(query, "bm25-german"))) == {"traktor", "bauern"}
    assert again.images.count() == len(TEXTS)  # payloads and image vectors kept
    if make_store.backend == "embedded":
        recorded = json.loads((again.directory / "qdrant" / "images.meta.json").read_text())
        assert recorded["spec"]["sparse"] == ["bm25-german", "bm25-english"]


def test_a_migration_without_languages_is_refused(make_store):
    from picsift.errors import StoreError

    old = make_store(text_languages=())
    fill(old)
    with pytest.raises(StoreError, match="PICSIFT_TEXT_LANGUAGES is empty"):
        old.add_text_vectors()
    assert make_store().meta.schema_version == 2 and not make_store().has_text_vectors
