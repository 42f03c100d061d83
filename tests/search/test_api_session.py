"""Closed reads in a browser: the key buys a read cookie (for <img> tags, which cannot send
it), the cookie opens reads only, and changing the key ends it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from search.app import create_app
from search.deps import READ_COOKIE, read_token

KEY = "s3cret-key"
BEARER = {"Authorization": f"Bearer {KEY}"}


def client_for(corpus, **settings) -> TestClient:
    app = create_app(corpus.settings(**settings), store=corpus.store, encoder=corpus.encoder)
    return TestClient(app)


@pytest.fixture
def closed(corpus):
    with client_for(corpus, api_key=KEY, public_read=False) as client:
        yield client


def some_image(corpus) -> str:
    return next(iter(corpus.truth.colour))


def test_the_key_buys_a_read_cookie_that_opens_images(closed, corpus):
    thumb = f"/api/images/{some_image(corpus)}/thumb"
    assert closed.get(thumb).status_code == 401
    assert closed.post("/api/session").status_code == 401
    response = closed.post("/api/session", headers=BEARER)
    assert response.json() == {"read_cookie": True}
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/api" in cookie
    assert KEY not in cookie
    assert closed.get(thumb).status_code == 200
    assert closed.get("/api/search", params={"q": "red circle"}).status_code == 200


def test_the_read_cookie_never_opens_writes(closed):
    closed.post("/api/session", headers=BEARER)
    assert closed.patch("/api/topics/0", json={"label": "mine"}).status_code == 401
    assert closed.post("/api/jobs/caption").status_code == 401


def test_a_cookie_of_an_old_key_is_refused_and_a_closed_session_ends(closed, corpus):
    thumb = f"/api/images/{some_image(corpus)}/thumb"
    closed.cookies.set(READ_COOKIE, read_token("the-old-key"), domain="testserver", path="/api")
    assert closed.get(thumb).status_code == 401
    closed.post("/api/session", headers=BEARER)
    assert closed.get(thumb).status_code == 200
    closed.delete("/api/session")
    assert closed.get(thumb).status_code == 401


def test_open_reads_need_no_cookie(corpus):
    with client_for(corpus, api_key=KEY) as client:
        response = client.post("/api/session")
        assert response.json() == {"read_cookie": False}
        assert "set-cookie" not in response.headers
