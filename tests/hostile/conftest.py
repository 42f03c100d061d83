"""The API test corpus (tests/search/conftest.py) for the hostile-input tests."""

from tests.search.conftest import client, corpus, toy_clip  # noqa: F401
