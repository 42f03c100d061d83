"""A search with no mode (#19): hybrid where the store's images have text, image otherwise;
a cut with no mode stays a cosine; API, CLI and export resolve it alike and say which mode ran;
hybrid answers the image ranking's verdict; the answer follows the store while jobs run."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from picsift.settings import Settings
from search.app import create_app
from search.query import SearchRequest
from search.service import SearchService
from tests.text_corpus import index_corpus, search, write_corpus

pytestmark = pytest.mark.filterwarnings("ignore:Local mode", "ignore:Payload indexes")


def test_without_a_mode_a_store_whose_images_have_text_ranks_hybrid(indexed, toy_clip):
    store, ids = indexed
    auto = search(store, toy_clip, "red circle Traktor")
    hybrid = search(store, toy_clip, "red circle Traktor", mode="hybrid")
    assert auto.mode == "hybrid" and auto.hits == hybrid.hits
    assert search(store, toy_clip, "red circle", not_=("blue",)).mode == "hybrid"
    # A cut with no mode is a cosine, as before there were modes.
    cut = search(store, toy_clip, "red circle", min_score=0.0)
    assert cut.mode == "image" and cut.min_score == 0.0
    assert all(h["score"] >= 0.0 and h["evidence"] is None for h in cut.hits)
    similar = SearchService(store, toy_clip).similar(ids["101"], SearchRequest(limit=3))
    assert similar.mode == "image"


def test_without_a_mode_images_without_text_rank_by_the_image(make_store, toy_clip, monkeypatch):
    from indexer.text_vectors import text_vectors
    from picsift.store import PointData
    from search import fused
    from tests.conftest import point_id, unit_vectors

    monkeypatch.setattr(fused, "NO_TEXT_RECHECK_S", 1e9)  # no second look but after a reset
    store = make_store()
    store.ensure(toy_clip.model_id, toy_clip.dim)
    vectors = unit_vectors(4, toy_clip.dim, seed=4)
    store.images.upsert([PointData(point_id(i), vectors[i], {}) for i in range(4)])
    service = SearchService(store, toy_clip)
    assert service.search(SearchRequest(q=("red",))).mode == "image"  # no text phase yet
    text_vectors(store)
    assert service.search(SearchRequest(q=("red",))).mode == "image"  # texts, all empty
    store.images.set_payload([point_id(2)], {"caption": "a red tractor"})
    text_vectors(store)
    assert service.search(SearchRequest(q=("red",))).mode == "image"  # still cached
    service.invalidate()  # what the API does when a job or an edit changed the store
    found = service.search(SearchRequest(q=("red",)))
    assert found.mode == "hybrid" and found.hits[0]["id"] == point_id(2)


def test_without_a_mode_a_store_made_before_text_search_ranks_by_the_image(make_store, toy_clip):
    from picsift.store import PointData
    from tests.conftest import point_id, unit_vectors

    store = make_store(text_languages=())
    store.ensure(toy_clip.model_id, toy_clip.dim)
    vectors = unit_vectors(3, toy_clip.dim, seed=5)
    store.images.upsert([PointData(point_id(i), vectors[i], {}) for i in range(3)])
    assert search(store, toy_clip, "Traktor").mode == "image"


def test_api_cli_and_export_without_a_mode(tmp_path):
    from cli.main import app
    from picsift.store.edge import EdgeStore

    runner = CliRunner()
    store_dir = tmp_path / "store"
    base = ["--store", str(store_dir), "--model", "toy"]
    sources = map(str, write_corpus(tmp_path))
    assert runner.invoke(app, [*base, "index", *sources, "--no-captions"]).exit_code == 0
    out = runner.invoke(app, [*base, "search", "Traktor"])
    assert out.exit_code == 0, out.output
    assert "6 images ranked by hybrid search" in out.output
    assert "by the image: cannot tell strong matches" in out.output  # 6 images: too few
    refused = runner.invoke(app, [*base, "export", "Traktor", "--out", str(tmp_path / "x")])
    assert "a hybrid ranking has no end and no score to cut at" in str(refused.exception)
    assert "no mode was given, and the store's images have text" in str(refused.exception)

    settings = Settings(store=str(store_dir), model="toy", caption_model="none")
    with EdgeStore(store_dir) as opened, TestClient(create_app(settings, store=opened)) as client:
        found = client.get("/api/search", params={"q": "Traktor"}).json()
        assert found["mode"] == "hybrid" and found["hits"][0]["evidence"]["matched"]
        assert found["relevance"]["verdict"].startswith("cannot tell strong matches")
        text = client.get("/api/search", params={"q": "Traktor", "mode": "text"}).json()
        assert text["relevance"] is None  # no image ranking to have an edge
        cut = client.get("/api/search", params={"q": "Traktor", "min_score": 0.1}).json()
        assert cut["mode"] == "image" and cut["relevance"] is not None
        params = {"q": "Traktor", "limit": 4}
        manifest = client.get("/api/export/manifest", params=params).json()
        assert manifest["search"]["mode"] == "hybrid" and manifest["images"] == 4
        assert manifest["score"].startswith("fused rank: the sum of 1/(60 + rank)")
        assert manifest["cut"]["verdict"] == found["relevance"]["verdict"]  # the image's
        assert "fused by reciprocal rank" in manifest["selection"]


@pytest.mark.parametrize(("q", "strong"), [("tractor", False), ("red circle", True)])
def test_a_hybrid_search_says_whether_the_image_ranking_stands_out(client, q, strong):
    """The posts of the shared corpus have text, so no mode ranks hybrid; its verdict is the
    image ranking's, the same as image mode's."""
    hybrid = client.get("/api/search", params={"q": q}).json()
    image = client.get("/api/search", params={"q": q, "mode": "image"}).json()
    assert hybrid["mode"] == "hybrid" and hybrid["relevance"] == image["relevance"]
    assert hybrid["relevance"]["verdict"].startswith("no strong matches") is not strong


def test_a_text_scan_overtaken_by_a_store_change_is_not_kept(indexed):
    """A search that looked for text while a job changed the store (the job's end resets the
    answer) must not cache its stale answer past that reset."""
    from search.fused import Fusion

    store, _ = indexed
    fusion = Fusion(store)
    scan = fusion._find_text

    def overtaken() -> bool:
        fusion.reset()  # the job's text phase finished while this scan ran
        return False

    fusion._find_text = overtaken
    assert fusion.has_text() is False
    fusion._find_text = scan
    assert fusion.has_text() is True


def test_new_posts_are_searchable_by_their_text_before_captions_run(make_store, toy_clip, tmp_path):
    """The text phase runs before the slow phases that write text (captions, OCR) and again
    after them: a new image's posts are found by their words while it is being captioned."""
    from indexer.run import enrichment

    phases = enrichment(Settings(model="toy", caption_model="toy"))
    assert [phase.name for phase in phases] == ["text", "variants", "captions", "text"]
    store = make_store()
    found_while_captioning: list[set[str]] = []

    class Probe:
        name, every_run = "probe", False

        def run(self, store, data_dir, progress):
            hits = search(store, toy_clip, "Traktor", mode="text").hits
            found_while_captioning.append({h["id"] for h in hits})
            return {"written": 0, "failed": []}

    run = index_corpus(store, toy_clip, tmp_path, [phases[0], Probe(), *phases[1:]])
    ids = {r.payload["posts"][0]["post_id"]: r.id for r in store.images.scroll()}
    assert found_while_captioning == [{ids["101"], ids["102"]}]
    assert run.report["captions"]["written"] == len(ids)
    # Both passes summed: the posts' text first, then every image again with its caption.
    assert run.report["text"] == {"written": 6 + len(ids), "failed": []}


def test_a_no_text_answer_is_looked_at_again_while_a_job_runs(make_store, toy_clip, monkeypatch):
    """An index job makes text vectors long before it ends (captions and OCR follow) and
    resets the cached answer only then: a "no text" answer is looked at again meanwhile."""
    from indexer.text_vectors import text_vectors
    from picsift.store import PointData
    from search import fused
    from tests.conftest import point_id, unit_vectors

    store = make_store()
    store.ensure(toy_clip.model_id, toy_clip.dim)
    store.images.upsert([PointData(point_id(0), unit_vectors(1, toy_clip.dim)[0], {})])
    monkeypatch.setattr(fused, "NO_TEXT_RECHECK_S", 1e9)
    fusion = fused.Fusion(store)
    assert fusion.has_text() is False
    store.images.set_payload([point_id(0)], {"caption": "a red tractor"})
    text_vectors(store)  # the job's text phase, before its captions (no reset yet)
    assert fusion.has_text() is False  # the cached answer, until NO_TEXT_RECHECK_S passed
    monkeypatch.setattr(fused, "NO_TEXT_RECHECK_S", 0.0)
    assert fusion.has_text() is True
