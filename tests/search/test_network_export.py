"""The image-account network as GEXF (`format=gexf`), as 4CAT's bipartite image-item network:
account -> image edges counting posts, copies of one picture merged into one node per variant
group (a post holding two copies counted once), posts without an author and images left
without an account counted in the manifest; from the library, the API and the CLI."""

from __future__ import annotations

import io
import json
import uuid

import networkx as nx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cli.main import app
from picsift.settings import Settings
from picsift.store import PointData
from picsift.store.edge import EdgeStore
from search.app import create_app
from search.network import NetworkCounts, gexf, network
from search.query import SearchRequest
from search.service import SearchService
from tests.conftest import unit_vectors

A = "00000000-0000-0000-0000-00000000000a"
B = "00000000-0000-0000-0000-00000000000b"


def _post(dataset, post_id, author, **extra):
    return {"dataset": dataset, "post_id": post_id, "author": author, "extra": extra}


IMAGES = [  # (variant, file name, posts)
    (
        A,
        "a1.jpg",
        [_post("tiktok", "t1", "ann", likes="10"), _post("tiktok", "t2", "bob", likes="5")],
    ),
    (
        A,
        "a2.jpg",
        [_post("tiktok", "t1", "ann", likes="10"), _post("insta", "i1", "ann", num_likes="3")],
    ),
    (B, "b1.jpg", [_post("tiktok", "t3", "")]),  # no author: no account, no edge
    (B, "b2.jpg", [_post("tiktok", "t4", "cy")]),
    (None, "c.jpg", [_post("tiktok", "t5", "bob")]),  # not grouped yet
]


def image_id(i: int) -> str:
    return str(uuid.UUID(int=i + 1))


def _fill(store):
    store.ensure("toy", 8)
    vectors = unit_vectors(len(IMAGES), 8)
    points = []
    for i, (variant, name, posts) in enumerate(IMAGES):
        payload = {
            "sha256": f"{i:064x}",
            "files": [
                {"path": "/data/export.zip", "member": f"images/{name}", "dataset": "tiktok"}
            ],
            "posts": posts,
            "datasets": sorted({p["dataset"] for p in posts}),
        }
        if variant:
            payload |= {"variant": variant, "variant_size": 2}
        points.append(PointData(image_id(i), vectors[i], payload))
    store.images.upsert(points)


def _parsed(graph: nx.DiGraph) -> nx.DiGraph:
    """The graph as Gephi reads it: written as GEXF text and read back."""
    return nx.read_gexf(io.BytesIO("".join(gexf(graph)).encode()))


def test_copies_of_a_picture_are_one_node_and_a_post_counts_once(make_store, toy_clip):
    store = make_store()
    _fill(store)
    counts = NetworkCounts()
    graph = _parsed(
        network(SearchService(store, toy_clip), SearchRequest(), None, "variant", counts)
    )
    edges = {(u, v): d for u, v, d in graph.edges(data=True)}
    assert set(edges) == {
        ("author-ann", f"variant-{A}"),
        ("author-bob", f"variant-{A}"),
        ("author-cy", f"variant-{B}"),
        ("author-bob", f"image-{image_id(4)}"),
    }
    ann = edges["author-ann", f"variant-{A}"]  # t1 holds both copies: one post
    assert (ann["frequency"], ann["engagement"], ann["engagement_posts"]) == (2, 13, 2)
    assert edges["author-bob", f"variant-{A}"]["frequency"] == 1
    node = graph.nodes[f"variant-{A}"]
    assert (node["category"], node["image"], node["label"], node["images"]) == (
        "image",
        "a1.jpg",
        "a1.jpg",
        2,
    )
    assert graph.nodes["author-ann"] | {} == {
        "label": "ann",
        "category": "author",
        "posts": 2,
        "datasets": "tiktok,insta",
    }
    assert (counts.images, counts.posts, counts.without_author) == (5, 5, 1)
    # b1's one post names no author, but its copy b2's does: b1 is in variant-B's node
    assert (counts.unlinked, counts.ungrouped) == (0, 1)
    assert counts.nodes == {"image": 3, "author": 3} and counts.edges == 4


def test_without_merging_each_image_is_its_node_and_filters_pick_the_posts(make_store, toy_clip):
    store = make_store()
    _fill(store)
    service = SearchService(store, toy_clip)
    counts = NetworkCounts()
    graph = network(service, SearchRequest(), None, "none", counts)
    assert graph.number_of_edges() == 5
    assert graph.edges["author-ann", f"image-{image_id(1)}"]["frequency"] == 2
    # t1 holds two of the images: one post of ann's on each image's edge, once in her count
    assert graph.nodes["author-ann"]["posts"] == 2 and counts.posts == 5
    assert f"image-{image_id(2)}" not in graph and counts.unlinked == 1  # no author
    only_insta = network(service, SearchRequest(datasets=("insta",)), None, "none", NetworkCounts())
    assert list(only_insta.edges) == [("author-ann", f"image-{image_id(1)}")]


@pytest.fixture
def edge(tmp_path):
    store = EdgeStore(tmp_path / "store")
    _fill(store)
    store.close()
    return tmp_path / "store"


def test_the_api_streams_the_network_and_its_manifest(edge, toy_clip):
    store = EdgeStore(edge)
    with TestClient(create_app(Settings(store=str(edge)), store=store, encoder=toy_clip)) as client:
        response = client.get("/api/export", params={"format": "gexf", "variant": A})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/gexf+xml")
        assert 'filename="picsift-' in response.headers["content-disposition"]
        graph = nx.read_gexf(io.BytesIO(response.content))
        assert set(graph) == {"author-ann", "author-bob", f"variant-{A}"}
        made = client.get("/api/export/manifest", params={"format": "gexf", "merge": "none"})
        manifest = made.json()
        assert manifest["format"] == "gexf" and "columns" not in manifest
        assert manifest["images"] == 5
        assert manifest["network"]["nodes"] == {"image": 4, "author": 3}
        assert manifest["network"]["posts_without_author"] == 1
        assert manifest["network"]["images_not_in_graph"] == 1
        assert manifest["network"]["images_not_grouped"] is None
        refused = client.get("/api/export", params={"format": "gexf", "columns": "likes"})
        assert refused.status_code == 422 and refused.json()["parameter"] == "columns"
        bad = client.get("/api/export", params={"format": "gexf", "merge": "hash"})
        assert bad.status_code == 422
    store.close()


def test_the_cli_writes_the_network_and_says_what_it_left_out(edge, tmp_path):
    out = tmp_path / "network.gexf"
    result = CliRunner().invoke(
        app, ["--store", str(edge), "export", "--out", str(out), "--format", "gexf"]
    )
    assert result.exit_code == 0, result.output
    assert "wrote a network of 3 image, 3 author nodes and 4 edges (5 posts of 5 images)" in (
        result.output
    )
    assert "1 posts name no author: no edge; 0 images are left with no account" in result.output
    assert "1 images are in no variant group yet (run `picsift variants`)" in result.output
    assert nx.read_gexf(out).number_of_edges() == 4
    manifest = json.loads(out.with_name("network.gexf.manifest.json").read_text())
    assert manifest["network"]["merge"] == "variant" and manifest["network"]["edges"] == 4
    refused = CliRunner().invoke(
        app, ["--store", str(edge), "export", "--out", str(out), "--format", "gexf", "--merge", "x"]
    )
    assert "--merge: 'x'; use variant or none" in str(refused.exception)


def test_names_xml_cannot_hold_are_escaped_and_stay_apart(make_store, toy_clip):
    store = make_store()
    store.ensure("toy", 8)
    posts = [_post("tiktok", "p1", "bad\x01name"), _post("tiktok", "p2", "bad\x02name")]
    payload = {"files": [], "posts": posts, "caption": "a \x0b caption"}
    store.images.upsert([PointData(image_id(0), unit_vectors(1, 8)[0], payload)])
    counts = NetworkCounts()
    graph = _parsed(network(SearchService(store, toy_clip), SearchRequest(), None, "none", counts))
    assert {graph.nodes[n]["label"] for n in graph if n.startswith("author-")} == {
        "bad\\x01name",
        "bad\\x02name",
    }
    assert graph.nodes[f"image-{image_id(0)}"]["caption"] == "a \\x0b caption"
    assert len(counts.escaped) == 3


def test_a_post_without_author_is_counted_once(make_store, toy_clip):
    store = make_store()
    store.ensure("toy", 8)
    vectors = unit_vectors(2, 8)
    shared = _post("tiktok", "p1", "")  # one post, no author, holding both copies
    store.images.upsert(
        [
            PointData(image_id(i), vectors[i], {"variant": A, "posts": [shared], "files": []})
            for i in range(2)
        ]
    )
    counts = NetworkCounts()
    graph = network(SearchService(store, toy_clip), SearchRequest(), None, "variant", counts)
    assert graph.number_of_nodes() == 0
    assert (counts.without_author, counts.unlinked, counts.posts) == (1, 2, 0)
