"""Closed reads in a browser: the key buys a read cookie (for <img> tags, which cannot send
it) holding a random session id; it opens reads only, expires, can be closed alone, is Secure
over HTTPS, and changing the key ends every session."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from search.app import create_app
from search.deps import READ_COOKIE

KEY = "s3cret-key"
BEARER = {"Authorization": f"Bearer {KEY}"}


def client_for(corpus, data, base_url: str = "http://testserver", **settings) -> TestClient:
    """A closed-reads app whose data folder (thumbnails, sessions) is `data`."""
    settings = {"api_key": KEY, "public_read": False, **settings}
    app = create_app(
        corpus.settings(data=data, **settings), store=corpus.store, encoder=corpus.encoder
    )
    return TestClient(app, base_url=base_url)


@pytest.fixture
def closed(corpus, tmp_path):
    with client_for(corpus, tmp_path) as client:
        yield client


@pytest.fixture
def thumb(corpus) -> str:
    return f"/api/images/{next(iter(corpus.truth.colour))}/thumb"


def login(client: TestClient) -> str:
    """Open a session; its cookie's value (the client keeps the cookie too)."""
    response = client.post("/api/session", headers=BEARER)
    assert response.status_code == 200, response.text
    return response.cookies[READ_COOKIE]


def use(client: TestClient, value: str) -> None:
    """Send `value` as the read cookie, and no other."""
    client.cookies.clear()
    client.cookies.set(READ_COOKIE, value, domain="testserver.local", path="/api")


def test_the_key_buys_a_read_cookie_that_opens_images(closed, thumb):
    assert closed.get(thumb).status_code == 401
    assert closed.post("/api/session").status_code == 401
    response = closed.post("/api/session", headers=BEARER)
    assert response.json() == {"read_cookie": True, "expires_in": 43_200}
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/api" in cookie
    assert "Max-Age=43200" in cookie and "Secure" not in cookie
    assert KEY not in cookie
    assert closed.get(thumb).status_code == 200
    assert closed.get("/api/search", params={"q": "red circle"}).status_code == 200


def test_the_read_cookie_never_opens_writes(closed):
    login(closed)
    assert closed.patch("/api/topics/0", json={"label": "mine"}).status_code == 401
    assert closed.post("/api/jobs/caption").status_code == 401


def test_two_logins_get_different_sessions(closed):
    first, second = login(closed), login(closed)
    assert first != second and len(first) >= 32


def test_closing_a_session_ends_that_one_only(closed, thumb):
    first, second = login(closed), login(closed)
    use(closed, first)
    response = closed.delete("/api/session")
    assert response.json() == {"read_cookie": False}
    assert "Max-Age=0" in response.headers["set-cookie"]
    for value, status in ((first, 401), (second, 200)):
        use(closed, value)
        assert closed.get(thumb).status_code == status


def test_an_expired_session_is_refused(corpus, tmp_path, thumb, monkeypatch):
    with client_for(corpus, tmp_path, session_ttl=600) as client:
        response = client.post("/api/session", headers=BEARER)
        assert "Max-Age=600" in response.headers["set-cookie"]
        sessions = client.app.state.picsift.sessions
        start = sessions.clock()
        monkeypatch.setattr(sessions, "clock", lambda: start + 599)
        assert client.get(thumb).status_code == 200
        monkeypatch.setattr(sessions, "clock", lambda: start + 601)
        assert client.get(thumb).status_code == 401


def test_sessions_outlive_a_restart_but_not_a_key_change(corpus, tmp_path, thumb):
    with client_for(corpus, tmp_path) as client:
        value = login(client)
    for key, status in ((KEY, 200), ("a-new-key", 401), (KEY, 401)):
        with client_for(corpus, tmp_path, api_key=key) as client:
            use(client, value)
            assert client.get(thumb).status_code == status, key
    assert KEY not in (tmp_path / "sessions.json").read_text()
    assert value not in (tmp_path / "sessions.json").read_text()


def test_over_https_the_cookie_is_secure(corpus, tmp_path):
    with client_for(corpus, tmp_path, "https://testserver") as client:
        response = client.post("/api/session", headers=BEARER)
        assert "; Secure" in response.headers["set-cookie"]
        assert "; Secure" in client.delete("/api/session").headers["set-cookie"]


@pytest.mark.parametrize(
    ("settings", "headers", "secure"),
    [
        ({}, {"X-Forwarded-Proto": "https"}, False),
        ({"trust_proxy": True}, {"X-Forwarded-Proto": "https"}, True),
        ({"trust_proxy": True}, {"X-Forwarded-Proto": "http"}, False),
        ({"cookie_secure": "true"}, {}, True),
    ],
)
def test_secure_behind_a_trusted_proxy_or_when_forced(corpus, tmp_path, settings, headers, secure):
    with client_for(corpus, tmp_path, **settings) as client:
        response = client.post("/api/session", headers={**BEARER, **headers})
        assert ("; Secure" in response.headers["set-cookie"]) is secure


def test_forced_off_over_https(corpus, tmp_path):
    with client_for(corpus, tmp_path, "https://testserver", cookie_secure="false") as client:
        assert "Secure" not in client.post("/api/session", headers=BEARER).headers["set-cookie"]


def test_open_reads_need_no_cookie(corpus, tmp_path):
    with client_for(corpus, tmp_path, public_read=True) as client:
        response = client.post("/api/session")
        assert response.json() == {"read_cookie": False}
        assert "set-cookie" not in response.headers
