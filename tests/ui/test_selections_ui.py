"""Saved selections in a real browser: "Save…" keeps exactly the grid's list (a filtered
browse, a text ranking with or without a cut, a list of similar images down to its cut, an
uploaded image's), a box or lasso on the map keeps exactly its points; the sidebar lists them;
`?selection=NAME` opens one, also in a fresh page; replacing and deleting work; a list without
an end and an unknown name are refused in words.

The server is the session's shared one: every name here is unique to the run, and whatever a
test saved is deleted after it.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

from tests.ui.conftest import API_KEY, Served, give_key, open_page, saved
from tests.ui.helpers import all_tile_ids, shape_png, snap, tile_ids, wait_for_query

pytestmark = pytest.mark.slow
RUN = uuid.uuid4().hex[:6]
AUTH = {"Authorization": f"Bearer {API_KEY}"}
MAX_PAGE = 1000  # the search API's largest page


def every_hit(served: Served, path: str, **params: Any) -> list[str]:
    """The ids of every page of a search API's answer (GET)."""
    ids: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = served.api(path, **params, limit=MAX_PAGE, offset=offset)
        ids += [hit["id"] for hit in page["hits"]]
        offset = page["next_offset"]
    return ids


def every_upload_hit(served: Served, image: bytes, **params: Any) -> list[str]:
    """The ids of every page of the uploaded-image search."""
    ids: list[str] = []
    offset: int | None = 0
    while offset is not None:
        response = httpx.post(
            f"{served.url}/api/search/image",
            params=params | {"limit": MAX_PAGE, "offset": offset},
            files={"file": ("query.png", image, "image/png")},
            timeout=60,
        )
        response.raise_for_status()
        ids += [hit["id"] for hit in response.json()["hits"]]
        offset = response.json()["next_offset"]
    return ids


def save_as(
    page: Any, name: str, names: list[str], *, key: bool = False, description: str = ""
) -> None:
    """Name (and describe) the selection in the open save dialog and save it (`key`: this
    page's first write, so the API-key dialog comes first); waits for the toast that says so."""
    dialog = page.locator("#save-dialog")
    dialog.wait_for(state="visible")
    dialog.locator("#save-name").fill(name)
    dialog.locator("#save-description").fill(description)
    names.append(name)
    dialog.get_by_role("button", name="Save", exact=True).click()
    if key:
        give_key(page)
    page.locator("#toast").filter(has_text=f"Saved “{name}”").wait_for()
    dialog.wait_for(state="hidden")


def save_view(page: Any, name: str, names: list[str], **options: Any) -> None:
    """Save the grid's list through "Save…" above it (`options` as for `save_as`)."""
    tile_ids(page)
    page.locator("#chips").get_by_role("button", name="Save…").click()
    save_as(page, name, names, **options)


def every_tile(page: Any) -> list[str]:
    """The ids of the grid's whole list: scrolls to its end until the last page is in."""
    end = page.locator("#grid .grid-end")
    end.wait_for()
    for _ in range(100):  # a page in about every 100 ms
        if "that is all" in end.inner_text():
            break
        end.scroll_into_view_if_needed()
        page.wait_for_timeout(100)
    return all_tile_ids(page)


def sidebar_item(page: Any, name: str) -> Any:
    return page.locator("#selections .saved-item").filter(
        has=page.get_by_role("link", name=name, exact=True)
    )


def cut_below(hits: list[dict], rank: int) -> str:
    """A min-score that keeps about the first `rank` hits (two decimals, as typed)."""
    return f"{int(hits[rank]['score'] * 100) / 100:.2f}"


def test_search_views_are_saved_listed_opened_shared_replaced_and_deleted(
    page, browser, served, shots, names
):
    browse = f"user1 from Nov 16, {RUN}"
    page.goto("/?author=user1&date_from=2023-11-16")
    shown = every_tile(page)
    save_view(page, browse, names, key=True, description="user1's posts from 16 November")
    selection = saved(served, browse)
    expected = every_hit(served, "search", author="user1", date_from="2023-11-16")
    assert selection["source"] == "search"
    assert selection["description"] == "user1's posts from 16 November"
    assert selection["ids"] == expected == shown
    assert f"{len(expected)} images" in page.inner_text("#toast")

    ranked = f"red circle, cut {RUN}"
    cut = cut_below(served.api("search", q="red circle", mode="image", limit=40)["hits"], 25)
    page.goto(f"/?q=red+circle&min_score={cut}")
    save_view(page, ranked, names)
    expected = every_hit(served, "search", q="red circle", min_score=cut)
    assert 0 < len(expected) < len(served.truth)
    assert saved(served, ranked)["ids"] == expected

    # No cut: the grid ranks `matched` images, and those are saved, as the export would.
    uncut = f"blue square, every image {RUN}"
    page.goto("/?q=blue+square")
    first = served.api("search", q="blue square", limit=1)
    save_view(page, uncut, names)
    selection = saved(served, uncut)
    top = served.api(
        "search", q="blue square", mode=first["mode"], limit=min(first["matched"], MAX_PAGE)
    )
    assert selection["ids"] == [hit["id"] for hit in top["hits"]]
    assert selection["view"]["limit"] == first["matched"]

    for name in (browse, ranked, uncut):
        count = len(saved(served, name)["ids"])
        assert f"{count} images · from a search" in sidebar_item(page, name).inner_text()
    assert "user1's posts from 16 November" in sidebar_item(page, browse).inner_text()

    sidebar_item(page, browse).get_by_role("link").click()
    wait_for_query(page, "selection")
    assert parse_qs(urlsplit(page.url).query) == {"selection": [browse]}
    assert page.locator("#chips .chip").filter(has_text=f"selection: {browse}").count() == 1
    assert every_tile(page) == saved(served, browse)["ids"]  # newest first, as saved

    with open_page(browser, served.url) as fresh:  # a shared link
        fresh.goto(f"/?selection={quote(ranked)}")
        assert set(every_tile(fresh)) == set(saved(served, ranked)["ids"])
        assert fresh.locator("#chips .chip").filter(has_text=f"selection: {ranked}").count()
        assert fresh.locator("#selections .saved-item.current").inner_text().startswith(ranked)
        fresh.locator("#selections").scroll_into_view_if_needed()  # below the topics
        snap(fresh, shots, "selections")

    # The name is taken: the dialog offers to replace it.
    page.goto("/?author=user2")
    tile_ids(page)
    page.locator("#chips").get_by_role("button", name="Save…").click()
    dialog = page.locator("#save-dialog")
    dialog.locator("#save-name").fill(browse)
    dialog.get_by_role("button", name="Save", exact=True).click()
    assert "already exists" in dialog.locator(".save-problem").inner_text()
    dialog.get_by_role("button", name="Replace it").click()
    page.locator("#toast").filter(has_text=f"Saved “{browse}”").wait_for()
    assert saved(served, browse)["ids"] == every_hit(served, "search", author="user2")

    page.once("dialog", lambda confirm: confirm.accept())
    sidebar_item(page, browse).get_by_role("button", name=f"Delete selection {browse}").click()
    sidebar_item(page, browse).wait_for(state="detached")
    gone = httpx.get(f"{served.url}/api/selections/{quote(browse, safe='')}")
    assert gone.status_code == 404

    page.goto(f"/?selection={quote(browse)}")
    error = page.locator("#grid .notice-error")
    assert f"There is no saved selection “{browse}”" in error.inner_text()
    refused = httpx.get(f"{served.url}/api/search", params={"selection": browse})
    assert refused.status_code == 404 and refused.json()["parameter"] == "selection"
    assert refused.json()["message"].rstrip(".") in error.inner_text()  # the API's own words


def test_lists_of_similar_images_are_saved_down_to_their_cut(page, served, names):
    liked = next(iter(served.truth))
    page.goto(f"/?like={liked}")
    tile_ids(page)
    page.locator("#chips").get_by_role("button", name="Save…").click()
    dialog = page.locator("#save-dialog")
    dialog.wait_for(state="visible")
    assert "set a minimum score" in dialog.locator(".save-what").inner_text()
    assert dialog.get_by_role("button", name="Save", exact=True).is_disabled()
    dialog.get_by_role("button", name="Cancel").click()

    similar = f"like {liked[:8]} {RUN}"
    cut = cut_below(served.api(f"images/{liked}/similar", limit=40)["hits"], 20)
    page.goto(f"/?like={liked}&min_score={cut}")
    save_view(page, similar, names, key=True)
    selection = saved(served, similar)
    expected = every_hit(served, f"images/{liked}/similar", min_score=cut)
    assert 0 < len(expected) < len(served.truth)
    assert selection["ids"] == expected
    assert selection["source"] == "similar"
    assert selection["view"]["image"] == liked
    assert selection["view"]["min_score"] == float(cut)

    image = shape_png("green", "triangle")
    cut = cut_below(
        httpx.post(
            f"{served.url}/api/search/image",
            params={"limit": 40},
            files={"file": ("query.png", image, "image/png")},
        ).json()["hits"],
        15,
    )
    page.goto(f"/?min_score={cut}")
    upload = {"name": "query.png", "mimeType": "image/png", "buffer": image}
    page.set_input_files("#upload", files=[upload])
    page.wait_for_function("() => /query.png/.test(document.getElementById('what').textContent)")
    uploaded = f"like my green triangle {RUN}"
    save_view(page, uploaded, names)
    selection = saved(served, uploaded)
    assert selection["ids"] == every_upload_hit(served, image, min_score=cut)
    assert selection["source"] == "upload"
    assert selection["view"]["file"] == "query.png"


def inside(x: float, y: float, polygon: list[list[float]]) -> bool:
    """Whether (x, y) is inside `polygon` (ray casting, as the map's lasso)."""
    result = False
    for (xi, yi), (xj, yj) in zip(polygon, polygon[-1:] + polygon[:-1], strict=True):
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            result = not result
    return result


def select_on_map(page: Any, tool: str, path: list[tuple[float, float]]) -> int:
    """Drag `tool` along `path` (fractions of the canvas); the number of images selected."""
    page.get_by_role("radio", name=tool).click()
    box = page.locator(".map-canvas").bounding_box()
    at = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in path]
    page.mouse.move(*at[0])
    page.mouse.down()
    for point in at[1:]:
        page.mouse.move(*point, steps=5)
    page.mouse.up()
    heading = page.locator(".map-selection h3").inner_text()
    return int(re.fullmatch(r"(\d+) images? selected", heading).group(1))


def test_a_box_and_a_lasso_on_the_map_save_their_points(page, fitted, names):
    points = fitted.api("topics/map", mode="points", limit=20_000)["points"]
    page.goto("/?view=map")
    page.wait_for_function(
        "n => document.querySelector('.map-info')?.textContent === `${n} images`",
        arg=len(points),
    )
    shapes = {
        "Box select": [(0.01, 0.01), (0.6, 0.6)],
        "Lasso select": [(0.3, 0.1), (0.95, 0.5), (0.4, 0.95), (0.3, 0.1)],
    }
    for i, (tool, path) in enumerate(shapes.items()):
        count = select_on_map(page, tool, path)
        assert 0 < count < len(points)
        page.locator(".map-selection").get_by_role(
            "button", name=re.compile(rf"^Save {count} images?…$")
        ).click()
        name = f"map {tool} {RUN}"
        save_as(page, name, names, key=i == 0)
        selection = saved(fitted, name)
        view = selection["view"]
        assert selection["source"] == "map"
        assert len(selection["ids"]) == count
        if view["tool"] == "box":
            b = view["bounds"]
            chosen = [
                p["id"]
                for p in points
                if b["x0"] <= p["x"] <= b["x1"] and b["y0"] <= p["y"] <= b["y1"]
            ]
        else:
            assert view["tool"] == "lasso" and len(view["polygon"]) <= 256
            chosen = [p["id"] for p in points if inside(p["x"], p["y"], view["polygon"])]
        assert set(selection["ids"]) == set(chosen)
        assert sidebar_item(page, name).is_visible()

    # The toast after a save opens the selection in the grid.
    page.locator("#toast").get_by_role("button", name="Open it").click()
    wait_for_query(page, "selection")
    assert parse_qs(urlsplit(page.url).query) == {"selection": [name]}
    assert set(every_tile(page)) == set(selection["ids"])


def test_the_sidebar_says_when_there_are_none_and_counts_images_gone_since(page):
    """What the list shows of the API's fields (answered here: the shared store has all its
    images, and other tests' selections come and go)."""
    answers = [[]]
    page.route("**/api/selections", lambda route: route.fulfill(json=answers[-1]))
    page.goto("/")
    empty = page.locator("#selections .notice-empty")
    assert "No saved selections yet" in empty.inner_text()
    assert "Save…" in empty.inner_text()
    answers.append(
        [
            {
                "name": "coded by hand",
                "source": "picked",
                "description": "",
                "created_at": "2024-05-01T10:00:00+00:00",
                "created_by": "admin",
                "model": "toy",
                "store_images": 10,
                "images": 5,
                "present": 2,
            }
        ]
    )
    page.reload()
    text = sidebar_item(page, "coded by hand").inner_text()
    assert "5 images · 3 no longer in the store · picked by hand · May 1, 2024" in text
