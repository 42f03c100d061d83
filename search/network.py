"""The image-account network of an export, as GEXF for Gephi (`format=gexf`).

Made as 4CAT's "Bipartite image-item network" (processors/networks/image-network.py) makes it,
so a researcher's Gephi workflow reads both: a directed graph from account nodes (`author-NAME`,
category `author`) to image nodes (category `image`, `image` the file name that Gephi's Image
Preview plugin loads), each edge's `frequency` the posts in which the account used the image.
4CAT can merge look-alike images by one hash; here `merge="variant"` merges the copies of one
picture into one node per variant group (`variant-ID`), and a post holding two copies of it
counts once. Edges also carry the engagement of their posts (likes, comments and shares, with
how many posts had counts).

The selection is the export's (query and its cut, filters, grouping: `search.export`). A post
without an author names no account, so it makes no edge; the counts say how many, and an image
left with no edge is left out of the graph and counted, never dropped unsaid.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Literal, get_args

import networkx as nx

from picsift.engagement import engaged
from search.export import selected, selected_posts
from search.query import SearchRequest
from search.service import SearchService

Merge = Literal["variant", "none"]
MERGES = get_args(Merge)
# What XML 1.0 cannot hold (control characters but tab and line ends, U+FFFE, U+FFFF): a
# writer that passes them makes a file no GEXF reader opens.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class NetworkCounts:
    """What a network export held and left out (filled in while it is built)."""

    images: int = 0  # images selected
    posts: int = 0  # distinct posts counted into edges
    without_author: int = 0  # distinct selected posts with no author: no edge
    unlinked: int = 0  # selected images whose node has no edge: not in the graph
    ungrouped: int = 0  # with merge="variant": images not grouped yet, each its own node
    nodes: dict[str, int] = field(default_factory=dict)  # category -> nodes
    edges: int = 0
    escaped: set[str] = field(default_factory=set)  # texts XML cannot hold, as written


def network(
    service: SearchService,
    request: SearchRequest,
    limit: int | None,
    merge: Merge,
    counts: NetworkCounts,
) -> nx.DiGraph:
    """The account -> image graph of the export selection of `request` (see the module)."""
    labels = service.topic_labels()
    graph = nx.DiGraph()
    used: set[tuple[str, str, str]] = set()  # (node, dataset, post id): a post counts once
    authored: dict[str, set[tuple[str, str]]] = {}  # account -> its posts in the graph
    authorless: set[tuple[str, str]] = set()
    nodes: list[str] = []  # each selected image's node
    for _, hit in selected(service, request, limit):
        counts.images += 1
        payload = hit.payload
        node = _image_node(graph, hit.id, payload, merge, labels, counts)
        nodes.append(node)
        for post in selected_posts(payload, request):
            key = (str(post.get("dataset")), str(post.get("post_id")))
            if not post.get("author"):
                authorless.add(key)
                continue
            if (node, *key) in used:
                continue
            used.add((node, *key))
            account = _use(graph, xml_safe(post["author"], counts), post, node, counts)
            authored.setdefault(account, set()).add(key)
    graph.remove_nodes_from([n for n in list(graph) if graph.degree(n) == 0])
    for account, posts in authored.items():
        graph.nodes[account]["posts"] = len(posts)
    counts.posts = len(set().union(*authored.values()))
    counts.without_author = len(authorless)
    counts.unlinked = sum(node not in graph for node in nodes)
    for _, data in graph.nodes(data=True):
        counts.nodes[data["category"]] = counts.nodes.get(data["category"], 0) + 1
    counts.edges = graph.number_of_edges()
    return graph


def _image_node(
    graph: nx.DiGraph,
    image_id: str,
    payload: dict[str, Any],
    merge: Merge,
    labels: dict[int, str],
    counts: NetworkCounts,
) -> str:
    """The node of an image (its variant group's with merge="variant"), added when new."""
    variant = payload.get("variant") if merge == "variant" else None
    if merge == "variant" and not variant:
        counts.ungrouped += 1
    node = f"variant-{variant}" if variant else f"image-{image_id}"
    if node in graph:
        graph.nodes[node]["images"] += 1
        return node
    name = _file_name(payload) or image_id
    topic = payload.get("topic")
    attributes = {
        "label": name,
        "category": "image",
        "image": name,
        "image_id": image_id,
        "sha256": payload.get("sha256", ""),
        "images": 1,
        "variant": payload.get("variant"),
        "topic": topic,
        "topic_label": labels.get(topic) if topic is not None else None,
        "caption": payload.get("caption"),
    }
    graph.add_node(
        node,
        **{
            k: xml_safe(v, counts) if isinstance(v, str) else v
            for k, v in attributes.items()
            if v is not None
        },
    )
    return node


def _file_name(payload: dict[str, Any]) -> str:
    """The image's first file name (a zip member's, else the file's), as 4CAT names it."""
    for entry in payload.get("files") or []:
        name = entry.get("member") or entry.get("path")
        if name:
            return PurePosixPath(str(name).replace("\\", "/")).name
    return ""


def _use(
    graph: nx.DiGraph, author: str, post: dict[str, Any], node: str, counts: NetworkCounts
) -> str:
    """Count one post of `author` (XML-safe) using the image `node`; returns the account's
    node."""
    account = f"author-{author}"
    if account not in graph:
        graph.add_node(account, label=author, category="author", posts=0, datasets="")
    data = graph.nodes[account]
    dataset = xml_safe(str(post.get("dataset") or ""), counts)
    if dataset and dataset not in data["datasets"].split(","):
        data["datasets"] = ",".join(filter(None, [data["datasets"], dataset]))
    if not graph.has_edge(account, node):
        graph.add_edge(account, node, frequency=0, engagement=0, engagement_posts=0)
    edge = graph.edges[account, node]
    edge["frequency"] += 1
    count = engaged(post)
    if count is not None:
        edge["engagement"] += count
        edge["engagement_posts"] += 1
    return account


def xml_safe(text: str, counts: NetworkCounts) -> str:
    """`text` with each character XML cannot hold written as `\\xNN` (or `\\uFFFE`), so
    two names differing only there stay two nodes; kept in `counts.escaped`."""
    safe = NOT_XML.sub(lambda m: m.group().encode("unicode_escape").decode(), text)
    if safe != text:
        counts.escaped.add(safe)
    return safe


def gexf(graph: nx.DiGraph) -> Iterator[str]:
    """The graph as GEXF 1.2 text, a line at a time (networkx writes it, as 4CAT does)."""
    for line in nx.generate_gexf(graph, prettyprint=True):
        yield line + "\n"


def describe(counts: NetworkCounts, merge: Merge) -> dict[str, Any]:
    """The network part of an export's manifest: what the graph is and what it left out."""
    return {
        "network": {
            "graph": "directed, account -> image, as 4CAT's bipartite image-item network",
            "nodes": counts.nodes,
            "edges": counts.edges,
            "merge": merge,
            "image_nodes_are": (
                "one per variant group (copies of one picture), an image not yet grouped its "
                "own node; a post holding two copies counts once"
                if merge == "variant"
                else "one per image (exact content)"
            ),
            "node_attributes_are": {
                "posts": "an account's distinct posts in the graph",
                "datasets": "the datasets of those posts",
                "images": "the selected images (copies of the picture) the node stands for",
            },
            "node_attributes": {
                "author": ["label", "category", "posts", "datasets"],
                "image": [
                    "label",
                    "category",
                    "image",
                    "image_id",
                    "sha256",
                    "images",
                    "variant",
                    "topic",
                    "topic_label",
                    "caption",
                ],
            },
            "edge_attributes": {
                "frequency": "posts in which the account used the image (a post holding two "
                "images is counted on each image's edge)",
                "engagement": "likes, comments and shares summed over those posts that have counts",
                "engagement_posts": "how many posts that sum is over",
            },
            "posts_counted": counts.posts,
            "posts_without_author": counts.without_author,
            "images_not_in_graph": counts.unlinked,
            "images_not_grouped": counts.ungrouped if merge == "variant" else None,
            "texts_escaped": len(counts.escaped),
            "escaping": "a character XML cannot hold (a control character) in a name or text "
            "is written as its \\xNN escape, so the file opens in Gephi; texts_escaped says "
            "how many distinct names and texts had one",
            "left_out": "a post without an author names no account, so it makes no edge; an "
            "image whose node is left with no edge is not in the graph (images_not_in_graph); "
            "with merge=variant, a copy whose own posts name no author is still in its "
            "picture's node when another copy's posts do",
        }
    }
