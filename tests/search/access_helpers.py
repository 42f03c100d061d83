"""Helpers shared by the test_api_access*.py modules: an app over the shared corpus with chosen
settings and upload limits, the check that an error is a JSON 4xx naming its parameter, and a
small valid PNG."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient

from search.app import create_app

ID = "00000000-0000-0000-0000-000000000001"


def app_client(corpus, tmp_path=None, limits=None, **settings):
    app = create_app(
        corpus.settings(**settings), store=corpus.store, encoder=corpus.encoder, limits=limits
    )
    return TestClient(app)


def assert_error(response, status: int, parameter: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "parameter", "message"} and body["message"]
    assert "Traceback" not in response.text
    if parameter is not None:
        assert body["parameter"] == parameter, body
    return body


def png_bytes(width: int = 32, height: int = 32) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(buffer, "PNG")
    return buffer.getvalue()
