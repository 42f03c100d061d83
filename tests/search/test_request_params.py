"""A request sent on as the API's query string (`SearchRequest.to_params`: the CLI's search and
export through a running server) arrives as the same request: every field set, none lost."""

from __future__ import annotations

import dataclasses

from fastapi import FastAPI
from fastapi.testclient import TestClient

from search.deps import Search
from search.query import SearchRequest

EVERY_FIELD = SearchRequest(
    q=("red circle", "sun"),
    not_=("blue",),
    text="flood",
    topics=(1, 2),
    exclude_topics=(3,),
    datasets=("tiktok",),
    authors=("ann",),
    tags=("meme",),
    date_from="2024-01-01",
    date_to="2024-02-01",
    has_caption=False,
    variant="00000000-0000-0000-0000-00000000000a",
    selection="flood memes, week 3",
    code="meme",
    coder="ann",
    limit=7,
    offset=14,
    group_by="author",
    min_score=0.25,
    mode="image",
    sort="engagement",
)


def test_every_field_is_set_in_the_example():
    defaults = SearchRequest()
    unset = [
        f.name
        for f in dataclasses.fields(SearchRequest)
        if getattr(EVERY_FIELD, f.name) == getattr(defaults, f.name)
    ]
    assert unset == ["selection_ids", "coded_ids"]  # read from the store, never sent


def test_the_query_string_carries_every_field():
    api = FastAPI()

    @api.get("/echo")
    def echo(request: Search) -> dict:
        return dataclasses.asdict(request)

    got = TestClient(api).get("/echo", params=EVERY_FIELD.to_params()).json()
    assert got == json_form(EVERY_FIELD)


def json_form(request: SearchRequest) -> dict:
    return {
        k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(request).items()
    }
