"""The server encodes queries as PICSIFT_TEXT_QUANTIZATION says, and says how in its status."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from search.app import create_app


@pytest.mark.parametrize(
    ("setting", "expected"),
    [("auto", "cpu int8 text tower: min cosine"), ("none", "cpu fp32, as images")],
)
def test_status_reports_the_query_encoding(corpus, monkeypatch, setting, expected):
    monkeypatch.setenv("PICSIFT_DEVICE", "cpu")
    monkeypatch.setenv("PICSIFT_PRECISION", "fp32")
    settings = corpus.settings(text_quantization=setting)
    with TestClient(create_app(settings, store=corpus.store)) as client:
        assert client.get("/api/status").json()["query_encoding"].startswith(expected)
        params = {"q": "red circle", "limit": 5, "mode": "image"}
        hits = client.get("/api/search", params=params).json()["hits"]
    truth = corpus.truth
    assert [(truth.colour[h["id"]], truth.shape[h["id"]]) for h in hits] == [("red", "circle")] * 5
