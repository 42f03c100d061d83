"""The API documentation works offline: /docs and /redoc load only files this app serves."""

from __future__ import annotations

import re

import pytest

URL = re.compile(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_reference_only_local_files(client, page):
    response = client.get(page)
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    html = response.text
    urls = set(URL.findall(html))
    assert {u for u in urls if u.endswith((".js", ".css"))}, html
    assert not re.search(r"(?:https?:)?//(?!testserver)[\w.-]+\.\w+/", html), html
    for url in urls:
        assert url.startswith("/"), url
        assert client.get(url).status_code == 200, url
    assert "/openapi.json" in urls
    if page == "/docs":
        assert '"validatorUrl": null' in html  # no badge fetched from validator.swagger.io


def test_openapi_documents_browsing(client):
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")  # the bundled Swagger UI reads OpenAPI 3.1
    hit = spec["components"]["schemas"]["HitOut"]["properties"]["score"]
    assert {"type": "null"} in hit["anyOf"]
