"""A small corpus for text search: toy shapes whose TikTok posts say things in German and
English (a folder of images named by post id, and the 4CAT-style table of those posts)."""

from __future__ import annotations

import csv
from pathlib import Path

from indexer.cache import IndexCache
from indexer.reader import MediaReader
from indexer.run import Sources, run_index
from search.query import SearchRequest
from search.service import SearchService
from tests.ui.helpers import shape_png

POSTS = {  # post id -> (shape shown, body, hashtags)
    "101": ("red circle", "Bauern blockieren mit Traktoren die Autobahn", "bauern"),
    "102": ("blue square", "Ein Traktor auf dem Feld", ""),
    "103": ("green triangle", "Farmers block the highway", "farmers,protest"),
    "104": ("red square", "Sonnenuntergang am Meer", ""),
    "105": ("yellow circle", "nothing to see here", ""),
    "106": ("red triangle", "", ""),
}


def write_corpus(root: Path) -> list[Path]:
    media = root / "media"
    media.mkdir()
    for n, (post, (shape, _, _)) in enumerate(POSTS.items()):
        (media / f"{post}.png").write_bytes(shape_png(*shape.split(), seed=n))
    table = root / "tiktok-posts.csv"
    with table.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "thread_id", "author", "body", "unix_timestamp", "hashtags"])
        for n, (post, (_, body, tags)) in enumerate(POSTS.items()):
            writer.writerow([post, post, f"user{n}", body, str(1_700_000_000 + n), tags])
    return [media, table]


def index_corpus(store, encoder, tmp_path: Path, phases):
    """The corpus written under `tmp_path`, indexed by the real indexer into `store`, with
    `phases` after it."""
    cache = IndexCache(tmp_path / "data")
    with MediaReader() as reader:
        run = run_index(
            store,
            encoder,
            cache,
            tmp_path / "data",
            Sources(tuple(write_corpus(tmp_path))),
            phases=phases,
            read=reader.read,
        )
    cache.close()
    return run


def search(store, encoder, q: str, **kw):
    """A search of `q` over `store` through the search service (`kw`: request fields)."""
    return SearchService(store, encoder).search(SearchRequest(q=(q,), **kw))
