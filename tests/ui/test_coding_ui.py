"""Qualitative coding in a real browser: a coder signs in with their key (the cookie does the
rest; the key is never stored), codes the grid with number keys and moves on with N (an image
left uncoded is recorded as seen), the tiles show their codes; a second coder in another browser
codes the same images (with the admin key saved there too: coding writes still go as the
coder); the Agreement view says what `GET /api/codes/agreement` says; `code=` and `coder=` are
removable chips that keep the API's images; the detail view's zero-shot suggestions are marked
as such and one click applies one.

The server is the session's shared one: the codes and coders are unique to the run. They stay in
the store (there is no deleting them), but nothing shows them to a browser no coder signed in.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from uuid import uuid4

import httpx
import pytest

from tests.ui.conftest import API_KEY, Served, open_page
from tests.ui.helpers import all_tile_ids, snap, tile_ids, wait_for_query

pytestmark = pytest.mark.slow
RUN = uuid4().hex[:6]
AUTH = {"Authorization": f"Bearer {API_KEY}"}
MAX_PAGE = 1000  # the search API's largest page
ALPHA = "\N{GREEK SMALL LETTER ALPHA}"


@dataclass
class Codebook:
    """This run's codes (names) and coders (name -> key)."""

    red: str
    blue: str
    tractor: str
    keys: dict[str, str]  # code -> its number key in the coding bar
    coders: dict[str, str]


@pytest.fixture(scope="module")
def book(served: Served) -> Codebook:
    """Three codes (read as a red circle, a blue square, a tractor) and two coders, added
    through the API with the admin key."""
    codes = {
        f"a-red-{RUN}": "a red circle",
        f"b-blue-{RUN}": "a blue square",
        f"c-tractor-{RUN}": "tractor",
    }
    for code, description in codes.items():
        post(served, "codes", {"code": code, "description": description})
    coders = {}
    for name in (f"ann-{RUN}", f"bob-{RUN}"):
        coders[name] = post(served, "coders", {"name": name})["key"]
    order = [c["code"] for c in served.api("codes")]
    keys = {code: str(order.index(code) + 1) for code in codes}
    assert max(map(int, keys.values())) <= 9, "more codes than number keys in the shared store"
    red, blue, tractor = codes
    return Codebook(red, blue, tractor, keys, coders)


def post(served: Served, path: str, body: dict) -> Any:
    response = httpx.post(f"{served.url}/api/{path}", json=body, headers=AUTH, timeout=30)
    response.raise_for_status()
    return response.json()


def codings(served: Served, image_id: str) -> dict[str, list[str]]:
    """Coder -> their latest codes for the image, as the API gives them."""
    return {c["coder"]: c["codes"] for c in served.api(f"images/{image_id}/codes")}


def eventually(check: Callable[[], Any], timeout: float = 15) -> Any:
    """`check()` once it is truthy (the UI writes in the background), else its last answer."""
    deadline = time.monotonic() + timeout
    while not (answer := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return answer


def every_hit(served: Served, **params: Any) -> list[str]:
    """The ids of every page of the search API's answer."""
    ids: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = served.api("search", **params, limit=MAX_PAGE, offset=offset)
        ids += [hit["id"] for hit in page["hits"]]
        offset = page["next_offset"]
    return ids


def sign_in(page: Any, name: str, key: str) -> None:
    """Sign in through the top bar's "Code…" dialog."""
    page.locator("#coder").get_by_role("button", name="Code…").click()
    dialog = page.locator("#coder-dialog")
    dialog.locator("#coder-key").fill(key)
    dialog.get_by_role("button", name="Sign in").click()
    page.locator("#coder").filter(has_text=f"Coding as {name}").wait_for()
    dialog.wait_for(state="hidden")
    page.locator("#coding-bar .code-toggle").first.wait_for()


def code_grid(page: Any, book: Codebook, plan: list[list[str]], next_key: str = "n") -> list[str]:
    """From the first tile on, press each image's keys (codes by name, or a key) and then
    `next_key`; returns the ids of the images coded."""
    ids = tile_ids(page)
    page.locator("#grid .tile-link").first.focus()
    for keys in plan:
        for key in keys:
            page.keyboard.press(book.keys.get(key, key))
        page.keyboard.press(next_key)
    page.locator("#coding-bar .coding-saving").filter(has_text="All saved").wait_for()
    return ids[: len(plan)]


def hide_toast(page: Any) -> None:
    """Take the sign-in toast off the screen before a screenshot."""
    page.evaluate("document.getElementById('toast').classList.remove('show')")
    page.wait_for_function("getComputedStyle(document.getElementById('toast')).opacity === '0'")


def badges(page: Any, image_id: str) -> list[str]:
    return page.locator(f'#grid .code-badges[data-id="{image_id}"] .code-badge').all_inner_texts()


def wait_codes(served: Served, image_id: str, expected: dict[str, list[str]]) -> None:
    got = eventually(lambda: codings(served, image_id) == expected and expected)
    assert got == expected, codings(served, image_id)


def test_two_coders_code_the_grid_and_their_agreement_is_shown(page, browser, served, shots, book):
    ann, bob = book.coders
    page.goto("/")
    tile_ids(page)
    assert page.locator("#coding-bar").is_hidden()  # no coding mode without a coder
    sign_in(page, ann, book.coders[ann])
    bar = page.locator("#coding-bar")
    red_key = bar.locator(f'.code-toggle[data-code="{book.red}"] kbd').inner_text()
    assert red_key == book.keys[book.red]
    # A, B, C, D: C is only looked at and left (seen, no code); E is current, not left.
    plan = [[book.red], [book.red, book.blue], [], [book.blue]]
    a, b, c, d = code_grid(page, book, plan)
    e = tile_ids(page)[4]
    mine = {a: [book.red], b: sorted([book.red, book.blue]), c: [], d: [book.blue]}
    for image_id, codes in mine.items():
        wait_codes(served, image_id, {ann: codes})
    assert codings(served, e) == {}
    assert badges(page, a) == [book.red]
    assert sorted(badges(page, b)) == sorted([book.red, book.blue])
    assert badges(page, c) == ["seen"]
    assert badges(page, e) == []
    assert page.locator("#grid .tile-link.coding-current").get_attribute("data-id") == e
    assert "not coded yet" in bar.locator(".coding-where").inner_text()
    hide_toast(page)
    snap(page, shots, "coding")
    # The key is nowhere in the page's storage, and no admin key was asked for.
    stored = page.evaluate("JSON.stringify({...localStorage, ...sessionStorage})")
    assert book.coders[ann] not in stored
    assert page.evaluate("localStorage.getItem('picsift.apiKey')") is None
    assert page.locator("#key-dialog").is_hidden()

    page.reload()  # the cookie keeps the coder signed in, and the badges come back
    page.locator("#coder").filter(has_text=f"Coding as {ann}").wait_for()
    page.locator(f'#grid .code-badges[data-id="{a}"] .code-badge').wait_for()
    assert badges(page, c) == ["seen"]
    page.locator("#coder").get_by_role("button", name="Sign out").click()
    page.locator("#coder").get_by_role("button", name="Code…").wait_for()
    assert page.locator("#grid .code-badge").count() == 0
    assert page.locator("#grid .coding-current").count() == 0
    assert bar.is_hidden()
    page.keyboard.press(book.keys[book.red])  # no coding mode: a number key writes nothing
    page.reload()
    page.locator("#coder").get_by_role("button", name="Code…").wait_for()
    assert codings(served, e) == {}

    with open_page(browser, served.url) as other:
        # Bob also holds the admin key: his coding writes still go as him, by his cookie.
        other.goto("/")
        other.evaluate("key => localStorage.setItem('picsift.apiKey', key)", API_KEY)
        other.reload()
        sign_in(other, bob, book.coders[bob])
        # He differs on B (no red); on C he toggles red, then 0 takes it off: seen, no code.
        plan = [[book.red], [book.blue], [book.red, "0"], [book.blue]]
        assert code_grid(other, book, plan, next_key="ArrowRight") == [a, b, c, d]
        theirs = {a: [book.red], b: [book.blue], c: [], d: [book.blue]}
        for image_id, codes in theirs.items():
            wait_codes(served, image_id, {ann: mine[image_id], bob: codes})
        assert badges(other, b) == [book.blue]

        other.locator(".tabs").get_by_role("link", name="Agreement").click()
        wait_for_query(other, "view", "agreement")
        check_agreement(other, served, book, (a, b), ann, bob)
        hide_toast(other)
        snap(other, shots, "agreement")
        # The disagreement opens its image, where Bob sees Ann's codes beside his own.
        card = other.locator(f'.agreement-code[data-code="{book.red}"]')
        card.locator(f'.disagreement[data-image="{b}"] a').click()
        wait_for_query(other, "image", b)
        others = other.locator("#detail .coding-others")
        others.filter(has_text=ann).wait_for()
        assert re.sub(r"\s+", " ", others.inner_text()).strip() == (
            f"{ann}: {book.red}, {book.blue}"
        )
        toggle = other.locator(f'#detail .code-toggle[data-code="{book.blue}"]')
        assert toggle.get_attribute("aria-pressed") == "true"
        other.keyboard.press("Escape")
        other.locator("#detail").wait_for(state="hidden")

        check_filters(other, served, book, a, b, bob)
        check_suggestions(other, served, book, bob, {a, b, c, d, e})


def check_agreement(page: Any, served: Served, book: Codebook, red: tuple, ann: str, bob: str):
    """The view says what the API says: each code's alpha (or why it is undefined), how often
    it was applied, and the images to resolve with who applied the code and who did not; a
    code's export holds its images, with each coder's codes. `red`: the images given red."""
    a, b = red
    page.locator(".agreement-codes").wait_for()
    answer = served.api("codes/agreement")
    assert answer["method"] in page.locator(".agreement-method").inner_text()
    by_code = {c["code"]: c for c in answer["codes"]}
    for code in (book.red, book.blue, book.tractor):
        card = page.locator(f'.agreement-code[data-code="{code}"]')
        alpha = by_code[code]["alpha"]
        text = card.locator(".agreement-alpha").inner_text()
        if alpha is None:
            assert text.startswith(f"{ALPHA} undefined")
        else:
            assert abs(float(text.removeprefix(f"{ALPHA} = ")) - alpha) < 5e-4, text
        n = by_code[code]["applied"]
        applied = f"Applied {n} time{'' if n == 1 else 's'} in all"
        assert applied in card.locator(".agreement-applied").inner_text()
        shown = card.locator(".disagreement").evaluate_all("els => els.map(e => e.dataset.image)")
        assert shown == [d["image_id"] for d in by_code[code]["disagreements"]]
    # Ann gave B red, Bob did not: red's one image to resolve; blue agrees; nobody used tractor.
    assert by_code[book.red]["disagreements"] == [
        {"image_id": b, "applied_by": [ann], "not_applied_by": [bob]}
    ]
    assert by_code[book.red]["alpha"] is not None and by_code[book.red]["alpha"] < 1
    assert by_code[book.blue]["alpha"] == pytest.approx(1.0)
    assert by_code[book.tractor]["alpha"] is None
    tractor = page.locator(f'.agreement-code[data-code="{book.tractor}"] .agreement-alpha')
    assert "no variation" in tractor.inner_text()
    item = page.locator(f'.agreement-code[data-code="{book.red}"] .disagreement')
    assert item.locator(".applied-by").inner_text() == f"applied by {ann}"
    assert item.locator(".not-applied-by").inner_text() == f"not by {bob}"

    card = page.locator(f'.agreement-code[data-code="{book.red}"]')
    with page.expect_download() as download:
        card.get_by_role("button", name="Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert {row["image_id"] for row in rows} == {a, b}
    assert all(book.red in row["codes"] and ann in row["coders"] for row in rows)


def check_filters(page: Any, served: Served, book: Codebook, a: str, b: str, bob: str):
    """`code=` and `coder=` keep the API's images, show as chips, and come off with them and
    with Clear filters."""
    card = page.locator(f'.agreement-code[data-code="{book.red}"]')
    card.get_by_role("link", name="Show its images in the grid").click()
    wait_for_query(page, "code", quote(book.red))
    shown = all_tile_ids(page)
    assert sorted(shown) == sorted(every_hit(served, code=book.red)) == sorted([a, b])
    chips = page.locator("#chips .chip")
    assert chips.count() == 1 and f"code: {book.red}" in chips.inner_text()

    page.goto(f"/?code={quote(book.red)}&coder={quote(bob)}")
    assert all_tile_ids(page) == every_hit(served, code=book.red, coder=bob) == [a]
    chips.filter(has_text=f"coder: {bob}").click()
    page.wait_for_url(lambda url: "coder" not in parse_qs(urlsplit(url).query))
    assert sorted(all_tile_ids(page)) == sorted([a, b])

    page.evaluate("document.getElementById('filters').open = true")
    page.locator("#filters").get_by_role("button", name="Clear filters").click()
    page.wait_for_url(lambda url: "code" not in parse_qs(urlsplit(url).query))
    assert chips.count() == 0

    page.goto("/?code=no-such-code")  # a misspelt code: the API's 404, in words
    error = page.locator("#grid .notice-error")
    assert "There is no code “no-such-code” in the codebook." in error.inner_text()


def check_suggestions(page: Any, served: Served, book: Codebook, bob: str, coded: set[str]):
    """The detail view's suggestions are the API's, marked as suggestions (never a coder), and
    a click applies one as the coder's own code."""
    suggested_for = {
        i: [s["code"] for s in served.api(f"images/{i}/codes/suggestions")["suggestions"]]
        for i, kind in served.truth.items()
        if kind == ("red", "circle") and i not in coded
    }
    image_id, expected = next((i, s) for i, s in suggested_for.items() if book.red in s)
    page.goto(f"/?image={image_id}")
    panel = page.locator("#detail .coding-panel")
    suggested = panel.locator(".coding-suggestions .suggestion")
    suggested.first.wait_for()
    assert suggested.evaluate_all("els => els.map(e => e.dataset.code)") == expected
    assert suggested.locator(".suggested-tag").all_text_contents() == ["suggested"] * len(expected)
    assert suggested.first.evaluate("e => getComputedStyle(e).borderTopStyle") == "dashed"
    assert "No other coder has coded it yet." in panel.locator(".coding-others").inner_text()
    assert codings(served, image_id) == {}  # a suggestion is never stored

    panel.locator(f'.suggestion[data-code="{book.red}"]').click()
    wait_codes(served, image_id, {bob: [book.red]})
    toggle = panel.locator(f'.code-toggle[data-code="{book.red}"]')
    assert toggle.get_attribute("aria-pressed") == "true"
    applied = panel.locator(f'.suggestion[data-code="{book.red}"]')
    assert applied.is_disabled() and "applied" in applied.inner_text()
    # A number key in the detail view toggles too: blue on, then off again.
    page.keyboard.press(book.keys[book.blue])
    wait_codes(served, image_id, {bob: sorted([book.red, book.blue])})
    page.keyboard.press(book.keys[book.blue])
    wait_codes(served, image_id, {bob: [book.red]})
