"""Static checks of docker-compose.yml's `cluster` profile: three Qdrant nodes that bootstrap
from node 1, each with its own storage, and a picsift service whose settings create replicated
shards and whose published port does not clash with the default profile's."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from picsift.settings import load_settings
from tests.compose_helpers import (
    dockerfile_env,
    parse_mounts,
    parse_ports,
    service_env,
    unknown_settings,
)

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
