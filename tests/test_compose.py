"""Static checks of Dockerfile, .dockerignore and docker-compose.yml against the settings.

Docker need not be installed: the files are parsed and checked for consistency with
`picsift.settings.Settings`, pyproject.toml and each other. The healthcheck commands of the
picsift image are also run against a small local HTTP server.
"""

from __future__ import annotations

import fnmatch
import http.server
import json
import os
import re
import shlex
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from picsift.errors import ConfigError
from picsift.settings import CONFIG_ENV, Settings, load_settings

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


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def picsift_svc(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]["picsift"]


@pytest.fixture(scope="module")
def qdrant_svc(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]["qdrant"]


def container_env(picsift_svc: dict[str, Any]) -> dict[str, str]:
    """What the picsift container sees: Dockerfile ENV, overridden by compose `environment`."""
    return {**dockerfile_env(), **service_env(picsift_svc)}


# --- compose ----------------------------------------------------------------------------------


def test_compose_spec_shape(compose: dict[str, Any]) -> None:
    assert "version" not in compose, "the compose spec has no `version:` key"
    assert {"qdrant", "picsift"} <= set(compose["services"])
    assert compose["services"]["picsift"].get("build") in (".", {"context": "."})


def test_every_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        hc = svc.get("healthcheck")
        assert hc and not hc.get("disable"), f"service {name} has no healthcheck"
        test = hc["test"]
        assert isinstance(test, list) and test[0] in {"CMD", "CMD-SHELL"}, (name, test)
        for key in ("interval", "timeout", "retries"):
            assert key in hc, f"service {name}: healthcheck.{key} not set"


def unknown_settings(env: dict[str, str]) -> list[str]:
    return sorted(k for k in env if k.startswith("PICSIFT_") and k not in KNOWN_ENV)


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


def test_store_url_points_at_qdrant_service(
    compose: dict[str, Any], picsift_svc: dict[str, Any], qdrant_svc: dict[str, Any]
) -> None:
    url = urlsplit(service_env(picsift_svc)["PICSIFT_STORE"])
    assert url.scheme == "http"
    assert url.hostname in compose["services"], f"{url.hostname} is not a compose service"
    assert compose["services"][url.hostname] is qdrant_svc
    container_ports = {target for _, _, target in parse_ports(qdrant_svc)}
    container_ports |= {int(str(p).split("/")[0]) for p in qdrant_svc.get("expose") or []}
    assert url.port == 6333
    assert url.port in container_ports, "PICSIFT_STORE must use a port qdrant listens on"
    assert {6333, 6334} <= container_ports


def test_picsift_port_is_published_on_loopback_by_default(picsift_svc: dict[str, Any]) -> None:
    port = int(container_env(picsift_svc)["PICSIFT_PORT"])
    ports = parse_ports(picsift_svc)
    assert ports, "picsift publishes no port"
    for host_ip, _, target in ports:
        assert target == port, f"published container port {target} != PICSIFT_PORT {port}"
        assert host_ip == "127.0.0.1", "by default the API is reachable from this machine only"
    exposed = {int(p.split("/")[0]) for args in dockerfile_args("EXPOSE") for p in args.split()}
    assert port in exposed, f"Dockerfile EXPOSE {exposed} lacks PICSIFT_PORT {port}"
    assert int(dockerfile_env()["PICSIFT_PORT"]) == port


def test_publish_address_can_be_overridden(picsift_svc: dict[str, Any]) -> None:
    raw = next(str(p) for p in picsift_svc["ports"])
    assert interpolate(raw, {"PICSIFT_PUBLISH": "0.0.0.0"}).startswith("0.0.0.0:")


def test_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    for name, svc in compose["services"].items():
        for source, target, kind in parse_mounts(svc):
            if kind == "volume":
                assert source is not None, f"{name}: anonymous volume at {target}"
                assert source in declared, f"{name}: volume {source} not declared at top level"
    assert ("qdrant-storage", "/qdrant/storage", "volume") in parse_mounts(
        compose["services"]["qdrant"]
    )


def test_picsift_mounts_match_data_and_model_dirs(picsift_svc: dict[str, Any]) -> None:
    env = container_env(picsift_svc)
    wanted = {env["PICSIFT_DATA"], env["HF_HOME"]}
    targets = {target for _, target, _ in parse_mounts(picsift_svc)}
    assert targets == wanted, f"mounts {targets} != PICSIFT_DATA/HF_HOME {wanted}"
    declared = {p for args in dockerfile_args("VOLUME") for p in json.loads(args)}
    assert declared == wanted, f"Dockerfile VOLUME {declared} != {wanted}"


def test_picsift_waits_for_healthy_qdrant(picsift_svc: dict[str, Any]) -> None:
    depends = picsift_svc.get("depends_on")
    assert isinstance(depends, dict), "use the long depends_on form with a condition"
    assert depends["qdrant"]["condition"] == "service_healthy"


def test_qdrant_image_is_pinned(qdrant_svc: dict[str, Any]) -> None:
    image = qdrant_svc["image"]
    name, _, tag = image.rpartition(":")
    assert name == "qdrant/qdrant"
    assert re.fullmatch(r"v\d+\.\d+\.\d+", tag), f"pin an exact Qdrant version, not {tag!r}"
    client_req = next(d for d in pyproject()["project"]["dependencies"] if "qdrant-client" in d)
    lower = re.search(r">=\s*(\d+)\.(\d+)", client_req)
    assert lower, client_req
    server = tuple(int(x) for x in tag[1:].split(".")[:2])
    assert server >= (int(lower.group(1)), int(lower.group(2))), (
        f"Qdrant {tag} is older than the client floor in {client_req!r}"
    )


def test_qdrant_healthcheck_probes_readyz(qdrant_svc: dict[str, Any]) -> None:
    command = " ".join(qdrant_svc["healthcheck"]["test"][1:])
    assert "/dev/tcp/127.0.0.1/6333" in command
    assert healthcheck_path(command) == "/readyz"
    assert "curl" not in command and "wget" not in command, "the qdrant image has neither"


def test_picsift_compose_healthcheck_probes_healthz(picsift_svc: dict[str, Any]) -> None:
    command = " ".join(picsift_svc["healthcheck"]["test"][1:])
    assert "urllib" in command and "127.0.0.1" in command
    assert healthcheck_path(command) == "/healthz"


# --- Dockerfile -------------------------------------------------------------------------------


def test_dockerfile_base_image_is_pinned() -> None:
    (base,) = dockerfile_args("FROM")
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", base), base


def test_dockerfile_installs_cpu_torch_first() -> None:
    runs = dockerfile_args("RUN")
    torch_pin = next(d for d in pyproject()["project"]["dependencies"] if d.startswith("torch"))
    assert torch_pin == "torch==2.13.0"
    torch_runs = [i for i, r in enumerate(runs) if re.search(r"\btorch==", r)]
    assert torch_runs, "Dockerfile never installs torch explicitly"
    first = runs[torch_runs[0]]
    assert torch_pin in first.split(), f"Dockerfile torch pin differs from pyproject {torch_pin}"
    assert f"--index-url {TORCH_CPU_INDEX}" in first, "torch must come from the CPU wheel index"
    project_runs = [i for i, r in enumerate(runs) if re.search(r"pip install (-\S+ )*\.(\s|$)", r)]
    assert project_runs, "Dockerfile never runs `pip install .`"
    assert torch_runs[0] < project_runs[0], "torch must be installed before the project"
    deps_runs = [i for i, r in enumerate(runs) if "pip install" in r]
    assert deps_runs[0] == torch_runs[0], "torch must be the very first pip install"
    assert not any("[dev]" in r for r in runs), "the image must not install dev extras"


def test_dockerfile_runs_as_non_root() -> None:
    users = dockerfile_args("USER")
    assert users, "Dockerfile sets no USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    assert any("useradd" in r and user in r and "--uid 1000" in r for r in dockerfile_args("RUN"))


def test_dockerfile_env_cmd_and_volumes() -> None:
    env = dockerfile_env()
    assert env["PICSIFT_HOST"] == "0.0.0.0"
    assert env["PICSIFT_DATA"] == "/data"
    assert env["HF_HOME"] == "/models"
    (cmd,) = dockerfile_args("CMD")
    assert json.loads(cmd) == ["picsift", "serve"]
    assert "picsift" in pyproject()["project"]["scripts"]


def test_dockerfile_healthcheck_probes_healthz() -> None:
    (hc,) = dockerfile_args("HEALTHCHECK")
    assert "curl" not in hc and "urllib" in hc
    assert "127.0.0.1" in hc
    assert healthcheck_path(hc) == "/healthz"


def test_dockerignore_keeps_state_out_but_source_in() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        hit = False
        for pat in patterns:
            negate = pat.startswith("!")
            pat = pat.lstrip("!").rstrip("/")
            if pat.startswith("**/"):
                match = any(
                    fnmatch.fnmatch(path, p) for p in (pat[3:], pat) if p
                ) or fnmatch.fnmatch(path.rsplit("/", 1)[-1], pat[3:])
            else:
                match = fnmatch.fnmatch(path, pat) or path.startswith(pat + "/")
            if match:
                hit = not negate
        return hit

    for path in (".venv", ".git", "picsift-data", "tests/screenshots", "bench/out", ".ruff_cache"):
        assert ignored(path), f".dockerignore does not exclude {path}"
    packages = pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]
    needed = ["pyproject.toml", "README.md"]
    needed += [f"{pkg.rstrip('*')}/__init__.py" for pkg in packages]
    for path in needed:
        assert not ignored(path), f".dockerignore excludes {path}, which the build needs"


# --- healthchecks run for real ----------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def probe_server() -> Iterator[tuple[int, type[_Handler]]]:
    handler = type("H", (_Handler,), {})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("source", ["Dockerfile", "docker-compose.yml"])
def test_picsift_healthcheck_command_works(
    source: str, picsift_svc: dict[str, Any], probe_server: tuple[int, type[_Handler]]
) -> None:
    if source == "Dockerfile":
        (hc,) = dockerfile_args("HEALTHCHECK")
        cmd = json.loads(hc[hc.index("CMD") + 3 :].strip())
        assert cmd[:2] == ["python", "-c"], cmd
        code = cmd[2]
    else:
        test = picsift_svc["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"], test
        code = test[3]
    port, handler = probe_server
    # No proxy variables: urllib would send even a 127.0.0.1 request through them.
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["PICSIFT_PORT"] = str(port)

    def run() -> int:
        proc = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, timeout=30
        )
        return proc.returncode

    assert run() == 0, "healthcheck fails against a healthy server"
    handler.status = 503
    assert run() != 0, "healthcheck passes against an unhealthy server"


# --- profile `cluster` ------------------------------------------------------------------------

CLUSTER_NODES = ("qdrant-node1", "qdrant-node2", "qdrant-node3")


def flag(command: list[str], name: str) -> str | None:
    return command[command.index(name) + 1] if name in command else None


def test_profiles_split_single_node_and_cluster(compose: dict[str, Any]) -> None:
    for name in ("qdrant", "picsift"):
        assert not compose["services"][name].get("profiles"), f"{name} must start by default"
    for name in (*CLUSTER_NODES, "picsift-cluster"):
        assert compose["services"][name]["profiles"] == ["cluster"], name


def test_cluster_nodes_bootstrap_from_node1(
    compose: dict[str, Any], qdrant_svc: dict[str, Any]
) -> None:
    bootstrap = None
    for name in CLUSTER_NODES:
        svc = compose["services"][name]
        assert svc["image"] == qdrant_svc["image"], "every node runs the pinned Qdrant"
        env = service_env(svc)
        assert env["QDRANT__CLUSTER__ENABLED"] == "true"
        port = int(env.get("QDRANT__CLUSTER__P2P__PORT", "6335"))
        command = svc["command"]
        own = urlsplit(flag(command, "--uri"))
        assert (own.hostname, own.port) == (name, port), f"{name} must announce itself"
        joins = flag(command, "--bootstrap")
        if name == "qdrant-node1":
            assert joins is None, "the first node bootstraps the cluster"
            bootstrap = own
        else:
            assert urlsplit(joins)[:2] == bootstrap[:2], f"{name} must join node 1"
            assert svc["depends_on"]["qdrant-node1"]["condition"] == "service_healthy"
        assert (f"{name}", "/qdrant/storage", "volume") in parse_mounts(svc), "own storage"


def test_cluster_picsift_creates_replicated_shards(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = compose["services"]["picsift-cluster"]
    env = {**dockerfile_env(), **service_env(svc)}
    assert not unknown_settings(env)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert settings.is_server and urlsplit(settings.store).hostname in CLUSTER_NODES
    assert settings.replication_factor == 2
    assert settings.shard_number >= len(CLUSTER_NODES), "at least one shard per node"
    assert set(svc["depends_on"]) == set(CLUSTER_NODES)
    published = {p for _, p, _ in parse_ports(svc)}
    single = {p for _, p, _ in parse_ports(compose["services"]["picsift"])}
    assert not published & single, "both profiles can run side by side"
