"""Cross-check of the Docker files against `picsift.settings.Settings`: every PICSIFT_* variable
set in docker-compose.yml or the Dockerfile is a real setting (a typo would be caught here and by
picsift at start-up), and the picsift container's environment loads as server settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from picsift.errors import ConfigError
from picsift.settings import Settings, load_settings
from tests.compose_helpers import container_env, dockerfile_env, service_env, unknown_settings


def test_picsift_env_keys_are_real_settings(picsift_svc: dict[str, Any]) -> None:
    assert not unknown_settings(service_env(picsift_svc)), "unknown settings in compose"
    assert not unknown_settings(dockerfile_env()), "unknown settings in Dockerfile ENV"


def test_unknown_key_would_be_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above really rejects a typo, and so would picsift at start-up."""
    env = {"PICSIFT_STORE": "http://qdrant:6333", "PICSIFT_STOER": "http://qdrant:6333"}
    assert unknown_settings(env) == ["PICSIFT_STOER"]
    monkeypatch.setenv("PICSIFT_STOER", "http://qdrant:6333")
    with pytest.raises(ConfigError, match="PICSIFT_STOER"):
        load_settings()


def test_container_env_loads_as_server_settings(
    picsift_svc: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = container_env(picsift_svc)
    settings = Settings(store=env["PICSIFT_STORE"])
    assert settings.is_server
    # Exactly as the container would: every variable from the environment, through the same
    # start-up path (unknown-variable check + validation) as `picsift serve`.
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    loaded = load_settings()
    assert loaded.is_server
    assert loaded.store == env["PICSIFT_STORE"]
    assert loaded.host == "0.0.0.0", "picsift must listen on all interfaces inside the container"
    assert loaded.data_dir == Path("/data")
    assert loaded.api_key is None or loaded.api_key.get_secret_value() == ""
