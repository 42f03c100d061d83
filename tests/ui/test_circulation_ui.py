"""The Circulation view (#20) in a real browser, over a store the real indexer grouped: photo-like
pictures with their variants (re-encoded, resized, cropped, with meme text) and a look-alike,
posted in two 4CAT datasets over several weeks, some posts with TikTok engagement counts. The
view lists the groups as the API sorts them, with their posts per week and engagement "over N
of M posts"; a group opens in the grid (a removable chip), and its posts export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import pytest

from tests.ui.circulation_corpus import PICTURES, write_corpus
from tests.ui.conftest import Served, index_and_serve, open_page
from tests.ui.helpers import all_tile_ids, snap, wait_for_query

pytestmark = pytest.mark.slow


@dataclass
class Grouped(Served):
    """The served store of PICTURES."""

    pictures: dict[str, int] = field(default_factory=dict)  # image id -> index in PICTURES


@pytest.fixture(scope="module")
def circulating(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Grouped]:
    """`picsift serve` over the two datasets, indexed (and grouped) by the CLI."""
    root = tmp_path_factory.mktemp("circulation")
    pictures = write_corpus(root)
    sources = sorted(root.glob("*.zip")) + sorted(root.glob("*.csv"))
    with index_and_serve(root, sources) as url:
        yield Grouped(url, root, {}, {}, pictures)


@pytest.fixture
def cpage(browser: Any, circulating: Grouped) -> Iterator[Any]:
    """A fresh browser context on the grouped store; JavaScript errors fail the test."""
    with open_page(browser, circulating.url) as page:
        yield page


def groups_of(served: Served, sort: str = "posts") -> list[dict]:
    """The API's variant groups in `sort` order."""
    return served.api("variants", sort=sort)["groups"]


def members(served: Served, variant: str) -> set[str]:
    """The ids of a variant group's images, as the API's filter finds them."""
    return {hit["id"] for hit in served.api("search", variant=variant, limit=100)["hits"]}


def shown_groups(page: Any) -> list[str]:
    """The groups the Circulation view lists, in order, once loaded (thumbnails too)."""
    page.wait_for_function(
        "() => document.getElementById('view-circulation').getAttribute('aria-busy') === 'false'"
        " && !document.querySelector('#view-circulation .strip[aria-busy=\"true\"]')"
    )
    return page.eval_on_selector_all(
        "#view-circulation .group-card", "els => els.map(e => e.dataset.variant)"
    )


def card(page: Any, variant: str) -> Any:
    return page.locator(f'#view-circulation .group-card[data-variant="{variant}"]')


def local(page: Any, value: int | str) -> str:
    """A number (5800 -> "5,800") or an ISO day ("Nov 20, 2023") as the page writes it in the
    browser's locale (`num` and `formatDate` of dom.js)."""
    return page.evaluate(
        """(v) => typeof v === 'number' ? v.toLocaleString() : new Date(v).toLocaleString(
          undefined, { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' })""",
        value,
    )


def mondays(weeks: dict[str, int]) -> list[str]:
    """Every Monday from the first week with posts to the last."""
    first, last = (dt.date.fromisoformat(d) for d in (min(weeks), max(weeks)))
    span = (last - first).days // 7
    return [(first + dt.timedelta(weeks=i)).isoformat() for i in range(span + 1)]


def exported(page: Any, variant: str, button: str) -> list:
    """Click a group's export `button` in the Circulation view; the export and its manifest,
    once both are downloaded."""
    downloads: list = []
    page.on("download", lambda download: downloads.append(download))
    page.goto("/?view=circulation")
    shown_groups(page)
    card(page, variant).get_by_role("button", name=button).click()
    page.wait_for_function(
        "() => /Export saved as/.test(document.getElementById('toast').textContent)"
    )
    for _ in range(100):  # the browser may report the second download a moment later
        if len(downloads) == 2:
            return downloads
        page.wait_for_timeout(50)
    raise AssertionError(f"{len(downloads)} downloads, not the export and its manifest")


def test_groups_are_listed_and_sorted_as_the_api_says(cpage, circulating, shots):
    by_posts = groups_of(circulating)
    # The look-alike and the picture posted once are no group: three pictures with copies.
    assert [g["images"] for g in by_posts] == [4, 3, 2]
    cpage.goto("/?view=circulation")
    assert shown_groups(cpage) == [g["variant"] for g in by_posts]
    assert "3 groups of two or more images in the store, the most posts first" in cpage.inner_text(
        ".circulation-count"
    )
    assert cpage.locator(".tabs a[aria-current=page]").inner_text() == "Circulation"
    for group in by_posts:
        box = card(cpage, group["variant"])
        title = box.locator(".group-title").inner_text()
        assert title.endswith(
            f"{group['images']} images · {group['posts']} posts · {group['accounts']} accounts"
        )
        strip = box.locator(".strip-link").evaluate_all("els => els.map(e => e.dataset.id)")
        assert sorted(strip) == sorted(members(circulating, group["variant"]))
        assert len(strip) == group["images"]
        datasets = box.locator("dd").nth(1).inner_text()
        assert datasets == ", ".join(group["datasets"])
        # One bar a week from the first week with posts to the last, the empty weeks too.
        slots = box.locator(".week-slot")
        weeks = slots.evaluate_all("els => els.map(e => [e.dataset.week, +e.dataset.posts])")
        assert [w for w, _ in weeks] == mondays(group["weeks"])
        assert {w: n for w, n in weeks if n} == group["weeks"]
        assert slots.locator(".week.empty").count() == len(weeks) - len(group["weeks"])
    wide = card(cpage, by_posts[0]["variant"])
    assert wide.locator(".week-slot").count() == 4  # 3 weeks with posts, one without between
    axis = wide.locator(".week-axis span").all_inner_texts()
    assert axis == [f"week of {local(cpage, day)}" for day in ("2023-11-20", "2023-12-11")]
    assert "Posts per week: 4 weeks, most 3" in wide.locator("figcaption").inner_text()
    snap(cpage, shots, "circulation")

    by_engagement = groups_of(circulating, "engagement")
    assert by_engagement != by_posts
    cpage.select_option("#circulation-sort", "engagement")
    wait_for_query(cpage, "circulation_sort", "engagement")
    assert shown_groups(cpage) == [g["variant"] for g in by_engagement]
    assert "the most engagement first" in cpage.inner_text(".circulation-count")
    cpage.reload()
    assert shown_groups(cpage) == [g["variant"] for g in by_engagement]
    assert cpage.input_value("#circulation-sort") == "engagement"
    cpage.go_back()
    wait_for_query(cpage, "view", "circulation")
    assert shown_groups(cpage) == [g["variant"] for g in by_posts]

    cpage.set_viewport_size({"width": 390, "height": 844})
    shown_groups(cpage)
    assert cpage.evaluate("document.documentElement.scrollWidth <= innerWidth")
    snap(cpage, shots, "circulation-phone")


def test_engagement_says_over_how_many_posts(cpage, circulating):
    wide, liked, quiet = groups_of(circulating)
    cpage.goto("/?view=circulation")
    shown_groups(cpage)

    def said(group: dict) -> str:
        return card(cpage, group["variant"]).locator("dd").nth(2).inner_text()

    def sums(group: dict) -> dict[str, str]:
        return {m: local(cpage, n) for m, n in group["engagement"].items()}

    e = sums(wide)
    assert wide["engagement_posts"] == {m: 3 for m in e} and wide["posts"] == 8
    assert said(wide) == (
        f"{e['likes']} likes, {e['comments']} comments, {e['shares']} shares and "
        f"{e['plays']} plays over 3 of 8 posts"
    )
    # Plays were counted on fewer posts than likes: each sum with its own share of the posts.
    e = sums(liked)
    assert liked["engagement_posts"] == {"likes": 2, "comments": 2, "shares": 2, "plays": 1}
    assert said(liked) == (
        f"{e['likes']} likes, {e['comments']} comments and {e['shares']} shares over 2 of 5 "
        f"posts; {e['plays']} plays over 1 of 5 posts"
    )
    assert quiet["engagement"] == {}
    assert said(quiet) == "no engagement counts in its 3 posts"

    cpage.select_option("#circulation-sort", "engagement")
    wait_for_query(cpage, "circulation_sort", "engagement")
    shown_groups(cpage)
    assert card(cpage, liked["variant"]).locator("dd strong").inner_text() == said(liked)


def test_a_group_opens_in_the_grid_with_a_chip(cpage, circulating):
    _, liked, _ = groups_of(circulating)
    images = members(circulating, liked["variant"])
    cpage.goto("/?view=circulation&author=ann&q=circle")  # the grid's search: left behind
    shown_groups(cpage)
    card(cpage, liked["variant"]).get_by_role("link", name="Show in grid").click()
    wait_for_query(cpage, "variant", liked["variant"])
    assert "view=" not in cpage.url and "author=" not in cpage.url and "q=" not in cpage.url
    shown = all_tile_ids(cpage)
    assert sorted(shown) == sorted(images) and len(shown) == liked["images"] == 3
    chip = cpage.locator("#chips .chip")
    assert chip.count() == 1
    assert chip.inner_text().startswith(f"same picture (group {liked['variant'][:8]})")
    assert "The copies of one picture" in cpage.inner_text("#what")
    assert "every image the filters match" in cpage.inner_text("#export-scope")

    chip.click()
    cpage.wait_for_function("() => !location.search.includes('variant=')")
    assert len(all_tile_ids(cpage)) == circulating.api("status")["images"]
    cpage.go_back()
    wait_for_query(cpage, "variant", liked["variant"])
    assert sorted(all_tile_ids(cpage)) == sorted(images)


def test_a_groups_posts_export_with_their_manifest(cpage, circulating):
    wide = groups_of(circulating)[0]
    table, manifest = exported(cpage, wide["variant"], "Export posts (CSV)")
    assert table.suggested_filename.startswith(f"picsift-variant-{wide['variant'][:8]}-")
    assert manifest.suggested_filename == table.suggested_filename[:-4] + ".manifest.json"
    rows = list(csv.DictReader(io.StringIO(table.path().read_text())))
    assert {r["image_id"] for r in rows} == members(circulating, wide["variant"])
    assert len({(r["dataset"], r["post_id"]) for r in rows}) == wide["posts"] == 8
    assert {r["variant"] for r in rows} == {wide["variant"]}
    assert json.loads(manifest.path().read_text())["filters"]["variant"] == wide["variant"]


def test_the_detail_view_links_an_image_to_its_group(cpage, circulating):
    wide = groups_of(circulating)[0]
    images = members(circulating, wide["variant"])
    cpage.goto("/?view=circulation")
    shown_groups(cpage)
    first = card(cpage, wide["variant"]).locator(".strip-link").first
    opened = first.get_attribute("data-id")
    first.click()
    wait_for_query(cpage, "image", opened)
    detail = circulating.api(f"images/{opened}")
    assert (detail["variant"], detail["variant_size"]) == (wide["variant"], 4)
    line = cpage.locator("#detail .same-picture")
    line.wait_for()
    assert line.inner_text() == "Same picture as 3 other images: show all 4 in the grid"
    line.get_by_role("link").click()
    wait_for_query(cpage, "variant", wide["variant"])
    assert not cpage.locator("#detail").is_visible() and "image=" not in cpage.url
    assert sorted(all_tile_ids(cpage)) == sorted(images)

    # The look-alike and the picture posted once have no copies: no group line.
    alone = [i for i, p in circulating.pictures.items() if PICTURES[p][2] == 0]
    assert len(alone) == 2
    for image in alone:
        assert circulating.api(f"images/{image}")["variant_size"] == 1
        cpage.goto(f"/?image={image}")
        cpage.locator("#detail .detail-meta").wait_for()
        assert cpage.locator("#detail .same-picture").count() == 0


def test_empty_states_say_what_groups_images(cpage, circulating):
    cpage.route(
        "**/api/variants?*",
        lambda route: route.fulfill(json={"groups": [], "total": 0, "sort": "posts"}),
    )
    cpage.goto("/?view=circulation")
    empty = cpage.locator("#view-circulation .notice-empty")
    empty.wait_for()
    assert "No variant groups yet." in empty.inner_text()
    assert "picsift variants" in empty.inner_text() and "Variants job" in empty.inner_text()
    assert empty.get_by_role("button", name="Group variants").count() == 1

    status = circulating.api("status") | {"images": 0, "frames": 0, "posts": 0}
    cpage.route("**/api/status", lambda route: route.fulfill(json=status))
    cpage.reload()
    cpage.locator("#view-circulation .notice-empty").wait_for()
    text = cpage.inner_text("#view-circulation .notice-empty")
    assert "No images yet." in text and "picsift index" in text


def test_a_groups_network_exports_as_gexf(cpage, circulating):
    wide = groups_of(circulating)[0]
    network, manifest = exported(cpage, wide["variant"], "Network (GEXF)")
    assert network.suggested_filename.endswith(".gexf")
    graph = nx.read_gexf(network.path())
    accounts = {n for n in graph if n.startswith("author-")}
    assert accounts == {"author-" + p.author for p in PICTURES[0][3]}  # who posted the picture
    assert set(graph) - accounts == {f"variant-{wide['variant']}"}  # its copies: one node
    assert sum(d["frequency"] for _, _, d in graph.edges(data=True)) == wide["posts"]
    described = json.loads(manifest.path().read_text())["network"]
    assert described["merge"] == "variant" and described["edges"] == graph.number_of_edges()


def test_the_grid_sorts_by_engagement_where_the_list_ends(cpage, circulating, shots):
    cpage.goto("/?sort=engagement")
    expected = circulating.api("search", sort="engagement", limit=100)["hits"]
    assert [h["engagement"] for h in expected] == sorted(
        (h["engagement"] for h in expected), reverse=True
    )
    assert all_tile_ids(cpage) == [h["id"] for h in expected]
    assert cpage.input_value("#sort") == "engagement"
    badges = cpage.locator("#grid .engaged").all_inner_texts()
    top = expected[0]
    assert badges[0] == f"{local(cpage, top['engagement'])} engaged"
    assert badges[-1] == "no counts" and expected[-1]["engagement_posts"] == 0

    # A ranking without a cut has no end to sort: the option waits for a minimum score.
    cpage.goto("/?q=picture&mode=image&sort=engagement")
    cpage.locator("#sort-hint").wait_for()
    assert cpage.locator("#sort option[value=engagement]").is_disabled()
    assert "Set a minimum score" in cpage.inner_text("#sort-hint")
    assert all_tile_ids(cpage)  # the ranking is shown, by score: no engagement badges
    assert cpage.locator("#grid .engaged").count() == 0
    cpage.goto("/?q=picture&mode=image&min_score=-1&sort=engagement")
    ranked = circulating.api("search", q="picture", mode="image", min_score=-1, limit=100)
    sorted_ids = circulating.api(
        "search", q="picture", mode="image", min_score=-1, sort="engagement", limit=100
    )["hits"]
    assert all_tile_ids(cpage) == [h["id"] for h in sorted_ids]
    assert sorted(h["id"] for h in sorted_ids) == sorted(h["id"] for h in ranked["hits"])
    assert not cpage.locator("#sort option[value=engagement]").is_disabled()
    snap(cpage, shots, "engagement-sort")
