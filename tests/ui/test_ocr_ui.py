"""Text in images (#18) in a real browser, over covers with German and English overlay text
indexed without OCR: the detail view says the text is not read yet, the Jobs page reads it
(and counts it), then the keyword filter finds a cover by its text and its detail shows it."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.ocr_images import write_covers
from tests.ui.conftest import Served, give_key, index_and_serve, open_page
from tests.ui.helpers import snap, tile_ids

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def covers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("ocr")
    write_covers(root / "covers")
    with index_and_serve(root, [root / "covers"]) as url:
        yield Served(url, root, {}, {})


def image_id(covers: Served, name: str) -> str:
    """The id the indexer gives the file (the UUID of its content hash)."""
    digest = hashlib.sha256((covers.root / "covers" / name).read_bytes()).hexdigest()
    return str(uuid.UUID(hex=digest[:32]))


def test_text_read_by_a_job_is_found_and_shown(browser: Any, covers: Served, shots):
    traktor, bruecke = image_id(covers, "traktor.png"), image_id(covers, "bruecke.png")
    with open_page(browser, covers.url) as page:
        page.goto(f"/?image={traktor}")
        section = page.locator("#detail .ocr")
        section.wait_for()
        assert "Not read yet" in section.inner_text() and "picsift ocr" in section.inner_text()

        page.goto("/?view=jobs")
        status = page.locator(".status")
        status.wait_for()
        assert "text read\n0 of 4" in status.inner_text()
        page.get_by_role("button", name="Read text").click()
        give_key(page)
        page.wait_for_function(
            "() => /text read\\s*4 of 4/.test(document.querySelector('.status')?.innerText)",
            timeout=120_000,
        )
        assert "ocr" in page.locator(".job").first.inner_text()

        page.goto("/?text=Br%C3%BCcke")  # the keyword filter, on the text read
        assert tile_ids(page) == [bruecke]
        page.goto(f"/?image={bruecke}")
        text = page.locator("#detail .ocr-text")
        text.wait_for()
        assert text.inner_text() == "Größte Straße über der Brücke"
        assert text.get_attribute("lang") == "de"
        how = page.locator("#detail .ocr .muted").inner_text()
        assert "from the original (deu+eng)" in how and "words under 70 left out" in how
        snap(page, shots, "ocr-detail")

        page.goto(f"/?image={image_id(covers, 'no-text.png')}")
        page.locator("#detail .ocr").wait_for()
        assert "No text found." in page.locator("#detail .ocr").inner_text()
