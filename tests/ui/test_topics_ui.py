"""The web UI in a real browser: topic filters, topics over time, topic edits and jobs. Edits
and jobs change the store, so they come last."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlparse

import pytest

from tests.indexer.conftest import write_4cat_zip
from tests.ui.conftest import give_key, truth_of
from tests.ui.helpers import all_tile_ids, search, snap, wait_for_query

pytestmark = pytest.mark.slow


def topic_ids(served, topic: int) -> set[str]:
    """Ids of every image in a topic, from the map endpoint."""
    points = served.api("topics/map", mode="points", topic=topic, limit=1000)["points"]
    return {p["id"] for p in points}


def test_ticking_a_topic_shows_only_its_images(page, fitted, shots):
    topics = fitted.api("topics")["topics"]
    topic = max((t for t in topics if t["topic"] != -1), key=lambda t: t["count"])
    members = topic_ids(fitted, topic["topic"])
    assert len(members) == topic["count"]
    page.goto("/")
    card = page.locator(f'.topic-card[data-topic="{topic["topic"]}"]')
    card.get_by_role("checkbox").check()
    wait_for_query(page, "topic", str(topic["topic"]))
    assert set(all_tile_ids(page)) == members  # no query: every image of the topic
    assert set(search(page, "circle")) <= members
    assert "included" in card.get_attribute("class")
    if any(t["topic"] == -1 for t in topics):
        outliers = page.locator('.topic-card[data-topic="-1"]')
        assert "Outliers (-1)" in outliers.inner_text()
        assert "not in any topic" in outliers.inner_text()
    snap(page, shots, "topic-filter")


def test_a_bar_of_topics_over_time_filters_the_grid(page, fitted):
    page.goto("/")
    segment = page.locator("#timeline .seg").first
    segment.click()
    wait_for_query(page, "date_from")
    query = {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}
    start = dt.datetime.fromisoformat(query["date_from"]).replace(tzinfo=dt.UTC).timestamp()
    end = dt.datetime.fromisoformat(query["date_to"]).replace(tzinfo=dt.UTC).timestamp() + 86_400
    ids = all_tile_ids(page)
    assert ids
    for image_id in ids:
        image = fitted.api(f"images/{image_id}")
        assert str(image["topic"]) == query["topic"]
        times = [dt.datetime.fromisoformat(p["timestamp"]).timestamp() for p in image["posts"]]
        assert any(start <= t < end for t in times)


def test_rename_and_merge_topics(page, fitted):
    before = fitted.api("topics")["topics"]
    first, second, third = [t for t in before if t["topic"] != -1][:3]
    page.goto("/")
    card = page.locator(f'.topic-card[data-topic="{first["topic"]}"]')
    card.get_by_role("button", name=re.compile("^Rename")).click()
    card.get_by_role("textbox").fill("my sunny things")
    card.get_by_role("button", name="Save").click()
    give_key(page)
    page.locator(".topic-card", has_text="my sunny things").wait_for()
    labels = {t["topic"]: t["label"] for t in fitted.api("topics")["topics"]}
    assert labels[first["topic"]] == "my sunny things"

    for topic in (second, third):
        page.locator(f'.topic-card[data-topic="{topic["topic"]}"]').get_by_role("checkbox").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Merge 2 ticked topics").click()
    page.wait_for_function(
        "n => document.querySelectorAll('.topic-card').length === n", arg=len(before) - 1
    )
    after = {t["topic"]: t for t in fitted.api("topics")["topics"]}
    assert third["topic"] not in after
    assert after[second["topic"]]["count"] == second["count"] + third["count"]


def wait_for_new_job(page, jobs_before: int, images: int) -> str:
    """Wait until a new job shows, ends done, and the store status counts `images`; returns
    the job's line."""
    page.wait_for_function("n => document.querySelectorAll('.job').length > n", arg=jobs_before)
    page.wait_for_function(
        "() => /· done/.test(document.querySelector('.job')?.textContent)", timeout=120_000
    )
    page.wait_for_function(
        "n => document.querySelector('.status')?.textContent.includes(n)", arg=f"{images:,}"
    )
    return page.locator(".job").first.inner_text()


def test_jobs_page_indexes_a_path_and_an_uploaded_zip(page, fitted, shots):
    on_server = write_4cat_zip(fitted.root / "more.zip", 6, seed=77, shared=False)
    (fitted.root / "here").mkdir()
    uploaded = write_4cat_zip(fitted.root / "here" / "upload.zip", 4, seed=78, shared=False)
    images = fitted.api("status")["images"]
    page.goto("/?view=jobs")
    page.locator(".status").wait_for()
    assert f"{images:,}" in page.inner_text(".status")
    jobs = page.locator(".job").count()

    page.fill("#job-path", str(fitted.root / "more.zip"))
    page.get_by_role("button", name="Index path").click()
    give_key(page)
    assert "index" in wait_for_new_job(page, jobs, images + len(on_server))
    snap(page, shots, "jobs", full_page=True)

    page.set_input_files("#job-file", fitted.root / "here" / "upload.zip")
    page.get_by_role("button", name="Upload and index").click()  # the key is saved by now
    assert "index" in wait_for_new_job(page, jobs + 1, images + len(on_server) + len(uploaded))
    for archive, shapes in (("more.zip", on_server), ("here/upload.zip", uploaded)):
        fitted.truth.update(truth_of(fitted.root / archive, shapes)[0])
