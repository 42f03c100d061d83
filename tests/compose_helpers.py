"""Parsing helpers for the Docker files: compose interpolation, services' environment, ports and
mounts, Dockerfile instructions, and the settings the picsift container would see. Shared by the
test_compose*.py modules; the `compose`, `picsift_svc` and `qdrant_svc` fixtures are in
tests/conftest.py."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import yaml

from picsift.settings import CONFIG_ENV, Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
KNOWN_ENV = {f"PICSIFT_{name.upper()}" for name in Settings.model_fields} | {CONFIG_ENV}


# --- parsing helpers --------------------------------------------------------------------------

_INTERP_RE = re.compile(
    r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_]\w*)"
)


def interpolate(value: str, env: dict[str, str] | None = None) -> str:
    """Compose variable interpolation (`${X:-default}`, `${X-d}`, `$X`, `$$`) with `env`."""
    env = env or {}

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, arg = m.group(2), m.group(3) or ""
        val = env.get(name)
        if op == ":-":
            return val if val else arg
        if op == "-":
            return val if val is not None else arg
        if op in {":?", "?"}:
            if not val:
                raise AssertionError(f"compose requires ${name}: {arg}")
            return val
        if op in {":+", "+"}:
            return arg if val else ""
        return val or ""

    return _INTERP_RE.sub(sub, value)


def load_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict), "docker-compose.yml must be a mapping"
    return data


def service_env(service: dict[str, Any]) -> dict[str, str]:
    """A service's `environment`, list or mapping form, interpolated with an empty env."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        pairs = dict(item.split("=", 1) if "=" in item else (item, "") for item in raw)
    else:
        pairs = {k: "" if v is None else str(v) for k, v in raw.items()}
    return {k: interpolate(v) for k, v in pairs.items()}


def parse_ports(service: dict[str, Any]) -> list[tuple[str | None, int | None, int]]:
    """(host_ip, published, target) for each entry of `ports` (short or long syntax)."""
    out: list[tuple[str | None, int | None, int]] = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            published = entry.get("published")
            out.append(
                (
                    entry.get("host_ip"),
                    int(interpolate(str(published))) if published is not None else None,
                    int(entry["target"]),
                )
            )
            continue
        spec = interpolate(str(entry)).split("/", 1)[0]
        parts = spec.rsplit(":", 2)
        target = int(parts[-1])
        published = int(parts[-2]) if len(parts) >= 2 and parts[-2] else None
        host_ip = parts[0] if len(parts) == 3 else None
        out.append((host_ip, published, target))
    return out


def parse_mounts(service: dict[str, Any]) -> list[tuple[str | None, str, str]]:
    """(source, target, type) for each entry of `volumes` (short or long syntax)."""
    out: list[tuple[str | None, str, str]] = []
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            out.append((entry.get("source"), entry["target"], entry.get("type", "volume")))
            continue
        parts = interpolate(str(entry)).split(":")
        if len(parts) == 1:
            out.append((None, parts[0], "volume"))  # anonymous volume
            continue
        source, target = parts[0], parts[1]
        kind = "bind" if source.startswith(("/", ".", "~")) else "volume"
        out.append((source, target, kind))
    return out


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    buf = ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or (not stripped and not buf):
            continue
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        buf += stripped
        if buf.strip():
            keyword, _, args = buf.strip().partition(" ")
            out.append((keyword.upper(), args.strip()))
        buf = ""
    assert not buf, "Dockerfile ends in a line continuation"
    return out


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, args in dockerfile_instructions():
        if keyword != "ENV":
            continue
        for token in shlex.split(args):
            assert "=" in token, f"use the ENV KEY=VALUE form, got {token!r}"
            key, value = token.split("=", 1)
            env[key] = value
    return env


def dockerfile_args(keyword: str) -> list[str]:
    return [args for kw, args in dockerfile_instructions() if kw == keyword]


def healthcheck_path(command: str) -> str:
    match = re.search(r"(/(?:healthz|readyz|livez))\b", command)
    assert match, f"no /healthz, /readyz or /livez probe in healthcheck {command!r}"
    return match.group(1)


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def container_env(picsift_svc: dict[str, Any]) -> dict[str, str]:
    """What the picsift container sees: Dockerfile ENV, overridden by compose `environment`."""
    return {**dockerfile_env(), **service_env(picsift_svc)}


def unknown_settings(env: dict[str, str]) -> list[str]:
    return sorted(k for k in env if k.startswith("PICSIFT_") and k not in KNOWN_ENV)
