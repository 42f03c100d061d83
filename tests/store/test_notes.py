"""Researchers' records beside the images (`ImageStore.notes`): written, read, listed and
deleted by key on both backends, kept when the store is reopened, and there before any image."""

from __future__ import annotations


def test_records_are_kept_by_key(make_store):
    store = make_store()
    notes = store.notes("selections")
    assert notes.get("protest memes") is None and list(notes.all()) == []
    notes.put("protest memes", {"ids": ["a", "b"], "kind": "query"})
    notes.put("other", {"ids": []})
    notes.put("protest memes", {"ids": ["c"], "kind": "ids"})  # replaced whole
    assert notes.get("protest memes") == {"ids": ["c"], "kind": "ids", "key": "protest memes"}
    assert sorted(r["key"] for r in notes.all()) == ["other", "protest memes"]
    assert notes.delete("other") and not notes.delete("other")
    reopened = make_store().notes("selections")
    assert [r["key"] for r in reopened.all()] == ["protest memes"]
    assert not store.exists  # no image collection was needed


def test_many_records_are_listed_page_by_page(make_store):
    notes = make_store().notes("selections")
    for i in range(300):
        notes.put(f"s{i}", {"n": i})
    assert sorted(r["n"] for r in notes.all()) == list(range(300))
