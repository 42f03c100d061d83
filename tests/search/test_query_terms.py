"""Query terms at the edges: blank `not`, `not` without `q` in exports, too many terms, terms
that cancel out, unknown topics, and the CLI's numbering of a later page."""

from __future__ import annotations

import pytest

from cli.search import _print_hits
from search.query import MAX_TERMS, SearchRequest
from search.service import SearchService


def _scored(client, path="/api/search", **params) -> list[tuple[str, float]]:
    response = client.get(path, params={"limit": 5, **params})
    assert response.status_code == 200, response.text
    return [(h["id"], h["score"]) for h in response.json()["hits"]]


def _error(client, path: str, **params) -> dict:
    response = client.get(path, params=params)
    assert response.status_code == 422, response.text
    return response.json()


@pytest.mark.parametrize("blank", ["", "  "])
def test_a_blank_not_term_is_ignored(client, corpus, blank):
    assert _scored(client, q="red", **{"not": blank}) == _scored(client, q="red")
    image = next(iter(corpus.truth.colour))
    similar = f"/api/images/{image}/similar"
    assert _scored(client, similar, **{"not": blank}) == _scored(client, similar)


def test_export_refuses_not_without_q_like_search(client):
    for path in ("/api/search", "/api/export", "/api/export/manifest"):
        body = _error(client, path, **{"not": "square"})
        assert body["parameter"] == "q" and "subtracts from a query" in body["message"]


def test_blank_q_exports_everything_as_search_browses(client, corpus):
    response = client.get("/api/export/manifest", params={"q": ""})
    assert response.status_code == 200, response.text
    assert response.json()["images"] == len(corpus.truth.colour)


@pytest.mark.parametrize("name", ["q", "not"])
def test_too_many_terms_are_refused_naming_the_parameter(client, name):
    terms = [f"w{i}" for i in range(MAX_TERMS + 1)]
    params = {"q": "red", name: terms} if name == "not" else {"q": terms}
    body = _error(client, "/api/search", **params)
    assert body["parameter"] == name and f"over the {MAX_TERMS} limit" in body["message"]
    assert _scored(client, q=terms[:MAX_TERMS])


def test_terms_that_cancel_out_are_an_error(client):
    body = _error(client, "/api/search", q="red", **{"not": "red"})
    assert body["parameter"] == "not" and "cancel out" in body["message"]


def test_unknown_topic_is_an_error_on_the_map_too_and_lists_the_topics(client):
    for path in ("/api/topics/map", "/api/search"):
        body = _error(client, path, topic=99)
        assert body["parameter"] == "topic"
        assert "no topic 99" in body["message"] and "its topics: 0, 1, 2" in body["message"]


def test_cli_numbers_hits_from_the_offset(corpus, capsys):
    service = SearchService(corpus.store, corpus.encoder)
    first = service.search(SearchRequest(q=("red",), limit=7))
    later = service.search(SearchRequest(q=("red",), limit=2, offset=5))
    _print_hits(later.hits, 5)
    ranks = [line.split(".")[0].strip() for line in capsys.readouterr().out.splitlines()[:1]]
    assert ranks == ["6"]
    assert [h["id"] for h in later.hits] == [h["id"] for h in first.hits[5:]]


@pytest.mark.parametrize("name", ["author", "tag", "dataset"])
def test_an_empty_filter_value_is_refused_not_matched_to_nothing(client, name):
    assert _error(client, "/api/search", q="red", **{name: ""})["parameter"] == name
