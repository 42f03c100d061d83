"""Hostile paths: traversal in path parameters, raw URLs and query parameters is a 4xx (a JSON
error naming the parameter where there is one), never a file outside the store; traversal text
in free-text search is only searched for."""

from __future__ import annotations

import pytest

from tests.search.access_helpers import assert_error

TRAVERSAL = ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "/etc/passwd", "....//....//x"]


@pytest.mark.parametrize("evil", TRAVERSAL)
def test_path_traversal_in_path_parameters(client, evil):
    for template in (
        "/api/images/{}",
        "/api/images/{}/file",
        "/api/images/{}/thumb",
        "/api/images/{}/similar",
        "/api/topics/{}",
        "/api/topics/{}/collage",
        "/api/jobs/{}",
    ):
        response = client.get(template.format(evil))
        assert 400 <= response.status_code < 500, (template, evil, response.status_code)
        assert b"root:" not in response.content


@pytest.mark.parametrize(
    "raw",
    [
        "/..%2f..%2f..%2fetc%2fpasswd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/static/../../etc/passwd",
        "/api/images/%2e%2e%2f%2e%2e%2fetc%2fpasswd/file",
    ],
)
def test_path_traversal_in_raw_urls(client, raw):
    response = client.get(raw)
    assert 400 <= response.status_code < 500 and b"root:" not in response.content


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"q": "red", "dataset": "../../etc"}, "dataset"),
        ({"q": "red", "dataset": "..\\..\\windows"}, "dataset"),
        ({"q": "red", "group_by": "../x"}, "group_by"),
        ({"q": "red", "topic": "../1"}, "topic"),
        ({"q": "red", "date_from": "../../etc"}, "date_from"),
        ({"q": "red", "has_caption": "/etc/passwd"}, "has_caption"),
    ],
)
def test_path_traversal_in_query_parameters(client, params, parameter):
    assert_error(client.get("/api/search", params=params), 422, parameter)
    if parameter != "group_by":  # export has no grouping
        assert_error(client.get("/api/export", params=params), 422, parameter)


def test_traversal_text_in_free_text_is_only_text(client):
    # q and text are what to look for, not names: they are searched, never opened.
    response = client.get("/api/search", params={"q": "../../etc/passwd", "text": "../.."})
    assert response.status_code == 200 and b"root:" not in response.content
