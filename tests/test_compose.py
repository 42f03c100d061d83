"""Static checks of docker-compose.yml's default profile (qdrant + picsift) against the Dockerfile.

Docker need not be installed: the files are parsed and checked for consistency with each other
and pyproject.toml: healthchecks on every service, the store URL and ports, volumes and mounts,
start-up order, the pinned Qdrant image and what each healthcheck probes.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from tests.compose_helpers import (
    container_env,
    dockerfile_args,
    dockerfile_env,
    healthcheck_path,
    interpolate,
    parse_mounts,
    parse_ports,
    pyproject,
    service_env,
)

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
