"""Read cookies an attacker sends or a broken disk leaves: made-up, too long, or the value the
cookie had before sessions (an HMAC of the key) are refused; a flood of logins keeps only the
newest sessions; a damaged sessions file starts the server without sessions."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from search.sessions import FILE
from tests.search.test_api_session import BEARER, KEY, client_for, login, use


@pytest.fixture
def thumb(corpus) -> str:
    return f"/api/images/{next(iter(corpus.truth.colour))}/thumb"


OLD_COOKIE = hmac.new(KEY.encode(), b"picsift read session", hashlib.sha256).hexdigest()


@pytest.mark.parametrize("value", ["made-up", "", "x" * 4000, OLD_COOKIE])
def test_a_cookie_that_is_no_session_is_refused(corpus, tmp_path, thumb, value):
    with client_for(corpus, tmp_path) as client:
        login(client)
        use(client, value)
        assert client.get(thumb).status_code == 401


def test_a_flood_of_logins_keeps_the_newest_sessions(corpus, tmp_path, thumb):
    with client_for(corpus, tmp_path) as client:
        client.app.state.picsift.sessions.limit = 3
        values = [login(client) for _ in range(5)]
        for value, status in zip(values, (401, 401, 200, 200, 200), strict=True):
            use(client, value)
            assert client.get(thumb).status_code == status
    assert len(json.loads((tmp_path / FILE).read_text())["sessions"]) == 3


@pytest.mark.parametrize("text", ["{not json", '{"key": 1}', '["a list"]', '{"sessions": 3}'])
def test_a_damaged_sessions_file_starts_without_sessions(corpus, tmp_path, thumb, text):
    (tmp_path / FILE).write_text(text)
    with client_for(corpus, tmp_path) as client:
        assert client.get(thumb).status_code == 401
        client.post("/api/session", headers=BEARER)
        assert client.get(thumb).status_code == 200
