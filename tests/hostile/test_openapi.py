"""The API does what its OpenAPI schema says: answers to methods it lacks name the ones it
has (RFC 9110's `Allow`)."""

from __future__ import annotations


def test_a_method_the_route_lacks_is_a_405_with_allow(client):
    response = client.request("TRACE", "/api/topics")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json()["error"] == "method_not_allowed"
