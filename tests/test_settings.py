"""Settings: precedence, validation messages, derived values."""

from __future__ import annotations

import pytest

from picsift.errors import ConfigError
from picsift.settings import load_settings


def test_defaults():
    s = load_settings()
    assert s.store == "./picsift-data" and not s.is_server
    assert s.collection == "images" and s.port == 8000 and s.public_read
    assert s.model is None and s.caption_enabled
    assert str(s.data_dir) == "picsift-data"


def test_precedence_toml_env_flags(tmp_path, monkeypatch):
    toml = tmp_path / "picsift.toml"
    toml.write_text('store = "/from/toml"\ncollection = "tomlcoll"\nport = 9000\n')
    monkeypatch.setenv("PICSIFT_CONFIG", str(toml))
    s = load_settings()
    assert (s.store, s.collection, s.port) == ("/from/toml", "tomlcoll", 9000)
    monkeypatch.setenv("PICSIFT_COLLECTION", "envcoll")
    s = load_settings()
    assert (s.store, s.collection) == ("/from/toml", "envcoll")
    s = load_settings(collection="flagcoll", store=None)  # None = flag not given
    assert (s.store, s.collection) == ("/from/toml", "flagcoll")


def test_server_url_and_data_dir(monkeypatch):
    monkeypatch.setenv("PICSIFT_STORE", "http://qdrant:6333")
    s = load_settings()
    assert s.is_server and str(s.data_dir) == "picsift-data"
    monkeypatch.setenv("PICSIFT_DATA", "/var/picsift")
    assert str(load_settings().data_dir) == "/var/picsift"


def test_caption_none_switches_captions_off(monkeypatch):
    monkeypatch.setenv("PICSIFT_CAPTION_MODEL", "none")
    assert not load_settings().caption_enabled


@pytest.mark.parametrize(
    ("env", "value", "expected"),
    [
        ("PICSIFT_PORT", "eighty", r"PICSIFT_PORT .*valid integer.*'eighty'"),
        ("PICSIFT_PORT", "70000", r"PICSIFT_PORT .*less than or equal to 65535"),
        ("PICSIFT_STORE", "ftp://host", r"PICSIFT_STORE .*must start with http:// or https://"),
        ("PICSIFT_COLLECTION", "my images", r"PICSIFT_COLLECTION .*letters, digits"),
        ("PICSIFT_PRECISION", "int4", r"PICSIFT_PRECISION .*'auto', 'fp32', 'bf16'"),
        ("PICSIFT_PUBLIC_READ", "maybe", r"PICSIFT_PUBLIC_READ .*boolean"),
        ("PICSIFT_SESSION_TTL", "0", r"PICSIFT_SESSION_TTL .*greater than or equal to 60"),
        ("PICSIFT_COOKIE_SECURE", "yes", r"PICSIFT_COOKIE_SECURE .*'auto', 'true' or 'false'"),
        ("PICSIFT_MAX_QUEUED_JOBS", "0", r"PICSIFT_MAX_QUEUED_JOBS .*greater than or equal to 1"),
    ],
)
def test_bad_settings_name_the_variable(monkeypatch, env, value, expected):
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError, match=expected):
        load_settings()


def test_session_and_queue_settings(tmp_path, monkeypatch):
    s = load_settings()
    assert (s.session_ttl, s.cookie_secure, s.trust_proxy) == (43_200, "auto", False)
    assert s.max_queued_jobs == 8
    toml = tmp_path / "picsift.toml"
    toml.write_text("cookie_secure = true\nsession_ttl = 3600\n")
    monkeypatch.setenv("PICSIFT_CONFIG", str(toml))
    assert (load_settings().cookie_secure, load_settings().session_ttl) == ("true", 3600)
    monkeypatch.setenv("PICSIFT_COOKIE_SECURE", "false")
    monkeypatch.setenv("PICSIFT_TRUST_PROXY", "true")
    assert (load_settings().cookie_secure, load_settings().trust_proxy) == ("false", True)


def test_misspelt_variable_is_refused_with_a_suggestion(monkeypatch):
    monkeypatch.setenv("PICSIFT_STOER", "/x")
    with pytest.raises(ConfigError, match=r"PICSIFT_STOER \(did you mean PICSIFT_STORE\?\)"):
        load_settings()


def test_unknown_toml_key_is_refused(tmp_path, monkeypatch):
    toml = tmp_path / "picsift.toml"
    toml.write_text('stor = "/x"\n')
    monkeypatch.setenv("PICSIFT_CONFIG", str(toml))
    with pytest.raises(ConfigError, match="stor"):
        load_settings()


def test_empty_values_mean_unset(monkeypatch):
    monkeypatch.setenv("PICSIFT_API_KEY", "")
    monkeypatch.setenv("PICSIFT_MODEL", " ")
    s = load_settings()
    assert s.api_key is None and s.model is None


def test_named_settings_file_must_exist(tmp_path, monkeypatch):
    monkeypatch.setenv("PICSIFT_CONFIG", str(tmp_path / "typo.toml"))
    with pytest.raises(ConfigError, match=r"settings file .*typo\.toml .*does not exist"):
        load_settings()
    monkeypatch.setenv("PICSIFT_CONFIG", str(tmp_path))
    with pytest.raises(ConfigError, match=r"is not a file"):
        load_settings()


def test_default_settings_file_is_optional(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PICSIFT_CONFIG", "")  # docker-compose's `${PICSIFT_CONFIG:-}`
    assert load_settings().store == "./picsift-data"
    (tmp_path / "picsift.toml").write_text('collection = "fromfile"\n')
    assert load_settings().collection == "fromfile"


def test_toml_syntax_error_names_line_and_column(tmp_path, monkeypatch):
    toml = tmp_path / "picsift.toml"
    toml.write_text('store = "/x"\nport = \n')
    monkeypatch.setenv("PICSIFT_CONFIG", str(toml))
    with pytest.raises(ConfigError, match=r"picsift\.toml: .*\(at line 2, column 8\)$"):
        load_settings()
