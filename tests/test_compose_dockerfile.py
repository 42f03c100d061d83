"""Static checks of the Dockerfile and .dockerignore: pinned base image, CPU torch installed first,
non-root user, ENV/CMD/VOLUME, and a build context that keeps local state out but the source in.
The healthcheck commands of the picsift image (Dockerfile and compose) are also run against a
small local HTTP server. Docker need not be installed."""

from __future__ import annotations

import fnmatch
import http.server
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.compose_helpers import (
    DOCKERIGNORE,
    TORCH_CPU_INDEX,
    dockerfile_args,
    dockerfile_env,
    healthcheck_path,
    pyproject,
)

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
