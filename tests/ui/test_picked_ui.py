"""Hand-picked selections in a real browser: the image detail's "Add to a selection…" starts
one and appends to it image by image (each save a new version, no repeats), the grid of a
hand-picked selection takes an image out from its tile (by keyboard), the detail says "In this
selection", and the last image cannot be taken out: the API keeps no empty selection, so the
UI offers Delete instead.

The server is the session's shared one: the name is unique to the run, and the selection is
deleted afterwards if the test did not delete it itself.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

from tests.ui.conftest import API_KEY, give_key, saved
from tests.ui.helpers import all_tile_ids, snap, tile_ids, wait_for_query

pytestmark = pytest.mark.slow
RUN = uuid.uuid4().hex[:6]
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def sidebar_item(page: Any, name: str) -> Any:
    return page.locator("#selections .saved-item").filter(
        has=page.get_by_role("link", name=name, exact=True)
    )


def detail_of(page: Any, image_id: str) -> Any:
    """The detail dialog once it shows image `image_id`."""
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("image") == [image_id])
    detail = page.locator("#detail[aria-busy='false']")
    detail.wait_for()
    return detail


def add(page: Any, detail: Any, name: str, *, new: bool = False, key: bool = False) -> None:
    """Open "Add to a selection…" in the detail and add its image to `name` (`new`: typed
    as a new selection's name; else chosen from the menu, where it must already be the one
    offered first; `key`: this page's first write, so the API-key dialog comes first)."""
    detail.get_by_role("button", name="Add to a selection…").click()
    target = detail.get_by_label("Add this image to")
    if new:
        target.select_option(label="A new selection…")
        detail.get_by_label("Name of the new selection").fill(name)
        detail.get_by_label("Description (optional)").fill("three shapes, picked by hand")
    else:
        assert target.input_value() == name  # the last one added to comes first
    detail.get_by_role("button", name="Add", exact=True).click()
    if key:
        give_key(page)


def test_images_are_picked_into_a_selection_one_by_one_and_taken_out(page, served, shots, names):
    name = f"picked by hand {RUN}"
    page.goto("/")
    first = tile_ids(page)[:3]
    page.locator(f'#grid .tile-link[data-id="{first[0]}"]').click()
    toast = page.locator("#toast")
    for n, image_id in enumerate(first, start=1):
        detail = detail_of(page, image_id)
        if n == 1:
            names.append(name)
        add(page, detail, name, new=n == 1, key=n == 1)
        counted = f"{n} image{'s' if n > 1 else ''}"
        toast.filter(has_text=f"Added to “{name}” ({counted})").wait_for()
        assert f"image {n} of {n}" in detail.locator(".pick-message").inner_text()
        if n < 3:
            detail.get_by_role("button", name="Next →").click()

    selection = saved(served, name)
    assert selection["ids"] == first
    assert selection["source"] == "picked"
    assert selection["version"] == 3
    assert selection["description"] == "three shapes, picked by hand"
    sidebar_item(page, name).filter(has_text="3 images · picked by hand").wait_for()

    # The same image again: said, offered to take out, and not saved twice.
    add(page, detail, name)
    message = detail.locator(".pick-message", has_text=f"already in “{name}” (image 3 of 3)")
    message.wait_for()
    snap(page, shots, "picked-detail")
    assert message.get_by_role("button", name="Remove from it").is_visible()
    selection = saved(served, name)
    assert (selection["ids"], selection["version"]) == (first, 3)

    page.keyboard.press("Escape")
    sidebar_item(page, name).get_by_role("link").click()
    wait_for_query(page, "selection")
    assert sorted(all_tile_ids(page)) == sorted(first)
    removers = page.locator("#grid .tile-remove")
    removers.nth(2).wait_for()
    assert removers.count() == 3
    snap(page, shots, "picked-grid")

    # Out of the selection from its tile, by keyboard: the other two stay, in their order.
    page.locator(f'#grid .tile-remove[data-id="{first[1]}"]').focus()
    page.keyboard.press("Enter")
    toast.filter(has_text=f"Removed from “{name}” (2 images)").wait_for()
    page.locator(f'#grid .tile-link[data-id="{first[1]}"]').wait_for(state="detached")
    assert page.evaluate("document.activeElement.className") == "tile-remove"
    selection = saved(served, name)
    assert (selection["ids"], selection["version"]) == ([first[0], first[2]], 4)
    sidebar_item(page, name).filter(has_text="2 images · picked by hand").wait_for()
    assert page.inner_text("#ranking .match-count") == "2 images"  # the grid's count too
    assert page.inner_text("#grid .grid-end") == "2 images: that is all."

    # The detail of an image in the selection shown says so, and takes it out.
    page.locator(f'#grid .tile-link[data-id="{first[0]}"]').click()
    detail = detail_of(page, first[0])
    member = detail.locator(".pick-member")
    member.filter(has_text="In this selection").wait_for()
    member.get_by_role("button", name="Remove from it").click()
    toast.filter(has_text=f"Removed from “{name}” (1 image)").wait_for()
    assert saved(served, name)["ids"] == [first[2]]
    page.keyboard.press("Escape")

    # The last image cannot be taken out: the API keeps no empty selection; Delete is offered.
    page.locator(f'#grid .tile-remove[data-id="{first[2]}"]').click()
    toast.filter(has_text="the API refuses to save an empty selection").wait_for()
    assert saved(served, name)["ids"] == [first[2]]
    page.once("dialog", lambda confirm: confirm.accept())
    toast.get_by_role("button", name="Delete the selection…").click()
    sidebar_item(page, name).wait_for(state="detached")
    gone = httpx.get(f"{served.url}/api/selections/{quote(name, safe='')}")
    assert gone.status_code == 404
