"""One typed settings object: defaults < picsift.toml < PICSIFT_* environment < CLI flags."""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from picsift.errors import ConfigError

DEFAULT_MODEL = "clip-ViT-B-32"
DEFAULT_CAPTION_MODEL = "nlpconnect/vit-gpt2-image-captioning"
CONFIG_ENV = "PICSIFT_CONFIG"
_COLLECTION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


class Settings(BaseSettings):
    """Everything picsift can be configured with. Field `x` is env var `PICSIFT_X`."""

    model_config = SettingsConfigDict(
        env_prefix="PICSIFT_", extra="forbid", validate_default=True, toml_file="picsift.toml"
    )

    store: str = Field(
        "./picsift-data",
        description="Directory of the embedded store, or http(s):// URL of a Qdrant server.",
    )
    collection: str = Field("images", description="Name of the image collection.")
    model: str | None = Field(
        None,
        description=f"Embedding model. Default: the store's model, else {DEFAULT_MODEL}.",
    )
    text_model: str | None = Field(None, description="Optional separate (multilingual) text model.")
    caption_model: str = Field(DEFAULT_CAPTION_MODEL, description="Captioner, or 'none'.")
    api_key: SecretStr | None = Field(None, description="Bearer token required for API writes.")
    data: Path | None = Field(
        None,
        description="Local state (thumbnails, topic models). Default: the store directory "
        "(embedded) or ./picsift-data (server).",
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    public_read: bool = Field(True, description="Whether reads need no API key.")
    session_ttl: int = Field(
        43_200,
        ge=60,
        le=31_536_000,
        description="Seconds a browser's read session (closed reads) lasts; 12 h by default.",
    )
    cookie_secure: Literal["auto", "true", "false"] = Field(
        "auto",
        description="Mark the read cookie Secure: when the request came over HTTPS (auto), "
        "always (true, e.g. behind a TLS proxy), never (false).",
    )
    trust_proxy: bool = Field(
        False,
        description="Believe a proxy's X-Forwarded-Proto header (only behind a proxy that sets "
        "it) when deciding whether a request came over HTTPS.",
    )
    max_queued_jobs: int = Field(
        8, ge=1, le=10_000, description="Jobs that may wait; more are refused with HTTP 429."
    )
    qdrant_api_key: SecretStr | None = Field(None, description="API key of a secured Qdrant.")
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    text_quantization: Literal["auto", "none", "int8"] = Field(
        "auto",
        description="Text tower (queries, tag labels): int8 copy on CPUs without native bf16, "
        "kept only when it agrees with fp32 on probe texts (auto); none; int8 (or fail).",
    )
    shard_number: int = Field(1, ge=1, description="Server backend: shards per collection.")
    replication_factor: int = Field(1, ge=1, description="Server backend: copies of each shard.")
    on_disk: bool = Field(False, description="Keep original vectors on disk (mmap), not in RAM.")
    quantization: Literal["none", "int8"] = Field(
        "none",
        description="int8: search on 4x smaller scalar-quantized vectors kept in RAM, rescored "
        "with the originals (set before the collection is created).",
    )
    video_frame_every: float = Field(
        5.0, gt=0, description="Videos: keep at least one frame this many seconds."
    )
    video_max_frames: int = Field(
        24, ge=1, le=1000, description="Videos: keep at most this many frames of each."
    )
    ocr: bool = Field(False, description="Read the text in new images while indexing (OCR).")
    variants: bool = Field(
        True, description="Group new images with their variants (the same picture) while indexing."
    )
    ocr_languages: str = Field(
        "deu+eng",
        pattern=r"^[a-z_]{3,}(\+[a-z_]{3,})*$",
        description="OCR: Tesseract's languages, joined by '+' (each needs tesseract-ocr-LANG).",
    )
    ocr_min_confidence: float = Field(
        70.0, ge=0, le=100, description="OCR: words Tesseract is less sure of (0..100) are dropped."
    )
    text_languages: str = Field(
        "german,english",
        description="Text search: the languages of a new store's BM25 text vectors, comma-"
        "separated (each its own stemming and stop words; a query is searched in each).",
    )
    hnsw_m: int = Field(16, ge=4, le=128)
    hnsw_ef_construct: int = Field(100, ge=8, le=2048)
    hnsw_ef: int | None = Field(None, ge=1, description="Search-time ef; None = engine default.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file())
        return init_settings, env_settings, toml

    @field_validator("model", "text_model", "api_key", "qdrant_api_key", "data", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        # docker-compose passes `${VAR:-}` as an empty string; that means "not set".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("cookie_secure", mode="before")
    @classmethod
    def _bool_is_word(cls, value: Any) -> Any:
        # picsift.toml may say `cookie_secure = true`; the environment says "true".
        return str(value).lower() if isinstance(value, bool) else value

    @field_validator("store")
    @classmethod
    def _check_store(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must be a directory path or an http(s):// URL of a Qdrant server")
        if "://" in value and not value.startswith(("http://", "https://")):
            raise ValueError(f"URL {value!r} must start with http:// or https://")
        return value

    @field_validator("text_languages")
    @classmethod
    def _check_text_languages(cls, value: str) -> str:
        import qdrant_edge as qe

        names = [name.strip().lower() for name in value.split(",") if name.strip()]
        for name in names:
            try:
                qe.Bm25(qe.Bm25Config(language=name))
            except Exception:  # qdrant_edge says only "unsupported language"
                raise ValueError(
                    f"{name!r} is no language the text search knows (e.g. german, english, "
                    "french, spanish, italian, dutch, russian, turkish)"
                ) from None
        return ",".join(dict.fromkeys(names))

    @property
    def text_language_list(self) -> tuple[str, ...]:
        """`text_languages` as a tuple (empty: new stores get no text vectors)."""
        return tuple(name for name in self.text_languages.split(",") if name)

    @field_validator("collection")
    @classmethod
    def _check_collection(cls, value: str) -> str:
        if not _COLLECTION_RE.match(value):
            raise ValueError(
                "must be 1-63 letters, digits, '_' or '-', starting with a letter or digit"
            )
        return value

    @property
    def is_server(self) -> bool:
        """True when the store is a Qdrant server URL rather than a local directory."""
        return self.store.startswith(("http://", "https://"))

    @property
    def caption_enabled(self) -> bool:
        """False when captions are switched off with `caption_model = "none"`."""
        return self.caption_model.strip().lower() not in {"", "none", "off"}

    @property
    def data_dir(self) -> Path:
        """Directory for local state beside the vectors (thumbnails, topic models, caches)."""
        if self.data is not None:
            return self.data
        return Path("./picsift-data") if self.is_server else Path(self.store)


def config_file() -> Path:
    """The settings file: PICSIFT_CONFIG (which `--config` sets), else ./picsift.toml.

    An empty PICSIFT_CONFIG means unset, as docker-compose passes `${PICSIFT_CONFIG:-}`.
    """
    return Path(os.environ.get(CONFIG_ENV) or "picsift.toml").expanduser()


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, CLI flags (`overrides`, None = not given) on top of everything else.

    Raises:
        ConfigError: naming each bad setting as its environment variable, with the fix; or
            the settings file, when it was named but is missing or is not valid TOML.
    """
    _check_unknown_env()
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        settings = Settings(**given)
    except ValidationError as exc:
        raise ConfigError(_explain(exc)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        # tomllib's message ends "(at line L, column C)": enough to find the mistake.
        raise ConfigError(f"cannot read settings file {config_file()}: {exc}") from None
    _check_named_config_exists()
    return settings


def _check_named_config_exists() -> None:
    """A named settings file must exist; only the default ./picsift.toml is optional.

    pydantic-settings skips a missing file without a word, so a mistyped --config would run
    on the defaults, against an empty store beside the real one.
    """
    if not os.environ.get(CONFIG_ENV):
        return
    path = config_file()
    if not path.is_file():
        state = "is not a file" if path.exists() else "does not exist"
        raise ConfigError(
            f"settings file {path} (--config or {CONFIG_ENV}) {state}; fix the path, "
            "or leave both unset to read ./picsift.toml"
        )


def _check_unknown_env() -> None:
    """A mistyped variable (PICSIFT_STOER) would otherwise be ignored without a word."""
    known = {f"PICSIFT_{name.upper()}" for name in Settings.model_fields} | {CONFIG_ENV}
    unknown = sorted(k for k in os.environ if k.startswith("PICSIFT_") and k not in known)
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, known, n=1)
            hints.append(f"{name} (did you mean {close[0]}?)" if close else name)
        raise ConfigError(
            f"unknown setting(s) {', '.join(hints)}; known: {', '.join(sorted(known))}"
        )


def _explain(exc: ValidationError) -> str:
    lines = ["invalid settings:"]
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "?"
        env = f"PICSIFT_{field.upper()}"
        got = err.get("input")
        lines.append(
            f"  {env} (picsift.toml key '{field}'): {err['msg']} (got {got!r}); "
            f"fix it in the environment, in picsift.toml or with the matching CLI flag"
        )
    return "\n".join(lines)
