"""Hostile values: absurd limits, offsets, dates and map sizes, empty, over-long, control-character
and non-Latin queries, malformed JSON bodies, and unknown routes and methods give a 4xx with a
JSON error naming the parameter, never a 500."""

from __future__ import annotations

import pytest

from tests.search.access_helpers import ID, assert_error


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": -1}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": 10**30}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "1e3"}, "limit"),
        ({"offset": -5}, "offset"),
        ({"offset": 10**12}, "offset"),
        ({"topic": [1] * 101}, "topic"),
        ({"date_from": "2024-13-45"}, "date_from"),
        ({"date_from": "2024-05-01", "date_to": "2024-04-01"}, "date_from"),
        ({"group_by": "user"}, "group_by"),
    ],
)
def test_absurd_limits_and_values(client, params, parameter):
    assert_error(client.get("/api/search", params={"q": "red", **params}), 422, parameter)


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/api/topics/map", {"bins": 100_000}, "bins"),
        ("/api/topics/map", {"limit": 10**6, "mode": "points"}, "limit"),
        ("/api/topics/map", {"mode": "heat"}, "mode"),
        ("/api/export", {"limit": 10**7}, "limit"),
        (f"/api/images/{ID}/similar", {"limit": 5000}, "limit"),
    ],
)
def test_absurd_values_elsewhere(client, path, params, parameter):
    assert_error(client.get(path, params=params), 422, parameter)


@pytest.mark.parametrize(
    ("q", "status"),
    [
        ("", 200),  # a blank query browses (see test_api_browse.py)
        ("   ", 200),
        ("\t\n", 200),
        ("x" * 1001, 422),
        ("red\x00circle", 422),
        ("red\x1bcircle", 422),
        ("🔴 circle", 200),
        ("красный круг", 200),
        ("دائرة حمراء", 200),
        ("红色圆圈", 200),
        ("e\u0301\u200d\ufeff", 200),
        ("x" * 1000, 200),
    ],
)
def test_unicode_and_empty_queries(client, q, status):
    response = client.get("/api/search", params={"q": q})
    assert response.status_code == status, response.text
    if status == 422:
        assert response.json()["parameter"] == "q"


def test_subtracting_without_a_query_and_broken_encoding(client):
    assert_error(client.get("/api/search", params={"not": "red"}), 422, "q")
    assert_error(client.get("/api/search", params={"q": " ", "not": "red"}), 422, "q")
    response = client.get("/api/search?q=%ED%A0%80%FF")  # not UTF-8
    assert response.status_code in (200, 422)


@pytest.mark.parametrize(
    ("method", "path", "kw", "parameter"),
    [
        ("patch", "/api/topics/1", {"json": {"label": ""}}, "label"),
        ("patch", "/api/topics/1", {"json": {"label": "x" * 201}}, "label"),
        (
            "patch",
            "/api/topics/1",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            None,
        ),
        ("post", "/api/topics/merge", {"json": {"topics": [1]}}, "topics"),
        ("post", "/api/topics/merge", {"json": {"topics": ["a", "b"]}}, "topics"),
        ("post", "/api/jobs/topics", {"json": {"action": "delete"}}, "action"),
        ("post", "/api/jobs/topics", {"json": {"min_topic_size": 1}}, "min_topic_size"),
        ("post", "/api/jobs/index", {"json": {"paths": "not a list"}}, "paths"),
        (
            "post",
            "/api/jobs/index",
            {"content": b"paths=/etc", "headers": {"content-type": "text/plain"}},
            "content-type",
        ),
        ("post", "/api/jobs/index", {"json": {"paths": ["."] * 101}}, "paths"),
    ],
)
def test_malformed_bodies(client, method, path, kw, parameter):
    response = getattr(client, method)(path, **kw)
    body = assert_error(response, 422)
    if parameter:
        assert body["parameter"] == parameter


def test_unknown_routes_and_methods_are_json(client):
    assert_error(client.get("/api/nothing"), 404)
    assert_error(client.delete("/api/search"), 405)
