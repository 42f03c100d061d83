"""Videos in the web UI, in a real browser over a store the real indexer made from real videos
(#17): a frame's tile says where in its video it is, the grid groups one per video, and a
frame's detail view steps through the video's frames, by mouse and by keyboard."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.ui.conftest import Served, index_and_serve, open_page
from tests.ui.helpers import search, shape_png, snap, tile_ids, wait_for_query
from tests.videos import write_video

pytestmark = pytest.mark.slow
SCENES = [(0, "blue square"), (3, "red circle"), (7, "green triangle")]  # cuts at 0, 3, 7 s
OTHER = [(0, "red circle"), (5, "yellow square")]


def clock(seconds: float) -> str:
    """A time as the UI writes it: 3.0 -> "0:03"."""
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`picsift serve` over a folder of two videos and two images, indexed by the CLI."""
    root = tmp_path_factory.mktemp("videos")
    media = root / "media"
    media.mkdir()
    write_video(media / "scenes.mp4", SCENES, duration=10)
    write_video(media / "other.webm", OTHER, duration=8, seed=1)
    (media / "circle.png").write_bytes(shape_png("red", "circle", seed=3))
    (media / "triangle.png").write_bytes(shape_png("blue", "triangle", seed=4))
    with index_and_serve(root, [media]) as url:
        yield Served(url, root, {}, {})


@pytest.fixture
def vpage(browser: Any, videos: Served) -> Iterator[Any]:
    """A fresh browser context on the video store; JavaScript errors fail the test."""
    with open_page(browser, videos.url) as page:
        yield page


def scenes_frame(videos: Served, at: float) -> dict:
    """The hit of the frame of scenes.mp4 at `at` seconds (found through the API)."""
    hits = videos.api("search", q="a shape", limit=100)["hits"]
    video = next(h["video_id"] for h in hits if h["frame_time"] == 7.0)  # only scenes.mp4 has 7 s
    return next(h for h in hits if h["video_id"] == video and h["frame_time"] == at)


def test_a_frame_found_by_text_shows_with_its_time(vpage, videos, shots):
    status = videos.api("status")
    assert (status["images"], status["videos"]) == (2, 2)
    vpage.goto("/")
    ids = search(vpage, "red circle")
    hits = videos.api("search", q="red circle", limit=60)["hits"]
    assert ids == [h["id"] for h in hits]
    frames = [h for h in hits if h["video_id"]]
    assert frames and any(h["video_id"] is None for h in hits)
    for hit in hits:
        tile = vpage.locator(f'#grid .tile-link[data-id="{hit["id"]}"]')
        badge = tile.locator(".time-badge")
        if hit["video_id"] is None:
            assert badge.count() == 0
            continue
        assert badge.inner_text() == f"▶ {clock(hit['frame_time'])}"
        assert f"video frame at {clock(hit['frame_time'])}" in tile.get_attribute("aria-label")
    three = scenes_frame(videos, 3.0)
    assert vpage.locator(f'.tile-link[data-id="{three["id"]}"] .time-badge').inner_text() == (
        "▶ 0:03"
    )
    snap(vpage, shots, "video-frames")


def test_one_per_video_is_a_grouping_kept_in_the_url(vpage, videos):
    hits = videos.api("search", q="red circle", limit=60)["hits"]
    per_video = [h["video_id"] for h in hits if h["video_id"]]
    assert len(per_video) > len(set(per_video))  # ungrouped, a video shows several frames
    vpage.goto("/?q=red+circle")
    tile_ids(vpage)
    vpage.click("#filters summary")
    vpage.select_option("#f-group", "video")
    wait_for_query(vpage, "group_by", "video")
    ids = tile_ids(vpage)
    grouped = videos.api("search", q="red circle", group_by="video", limit=60)["hits"]
    assert ids == [h["id"] for h in grouped]
    shown = [h["video_id"] for h in grouped if h["video_id"]]
    assert sorted(shown) == sorted(set(per_video))  # each video once, its best frame
    assert sum(h["video_id"] is None for h in grouped) == 2  # each image a group of its own
    assert "one per: video" in vpage.inner_text("#chips")

    vpage.reload()
    assert tile_ids(vpage) == ids
    assert vpage.input_value("#f-group") == "video"


def test_a_frames_detail_steps_through_its_video(vpage, videos, shots):
    three, seven = scenes_frame(videos, 3.0), scenes_frame(videos, 7.0)
    video = videos.api(f"images/{three['id']}")["video"]
    vpage.goto("/")
    search(vpage, "red circle")
    vpage.locator(f'#grid .tile-link[data-id="{three["id"]}"]').click()
    wait_for_query(vpage, "image", three["id"])
    dialog = vpage.locator("#detail")
    strip = dialog.get_by_role("list", name=re.compile("Frames of this video"))
    buttons = strip.get_by_role("button")
    buttons.first.wait_for()
    times = [float(t) for t in buttons.evaluate_all("els => els.map(e => e.dataset.time)")]
    assert times == [f["frame_time"] for f in video["frames"]] == [0.0, 3.0, 7.0]
    assert [b.inner_text() for b in buttons.all()] == ["0:00", "0:03", "0:07"]
    current = strip.locator('[aria-current="true"]')
    assert current.get_attribute("data-id") == three["id"]
    assert "this result" in current.get_attribute("aria-label")
    assert "▶ 0:03 of 0:10, frame 2 of 3" in dialog.locator(".frame-caption").inner_text()

    buttons.nth(2).click()
    large = dialog.locator(".detail-img")
    vpage.wait_for_function(
        "img => img.complete && img.naturalWidth > 0 && img.src.endsWith(img.dataset.frame"
        " + '/thumb')",
        arg=large.element_handle(),
    )
    assert large.get_attribute("data-frame") == seven["id"]
    assert "▶ 0:07 of 0:10, frame 3 of 3" in dialog.locator(".frame-caption").inner_text()
    assert strip.locator('[aria-current="true"]').get_attribute("data-id") == seven["id"]
    snap(vpage, shots, "video-detail")

    # The keyboard: the arrows walk the strip (not the result list), focus following.
    vpage.keyboard.press("ArrowLeft")
    assert "▶ 0:03" in dialog.locator(".frame-caption").inner_text()
    assert vpage.evaluate("document.activeElement.dataset.id") == three["id"]
    vpage.keyboard.press("End")
    assert vpage.evaluate("document.activeElement.dataset.id") == seven["id"]
    assert three["id"] in vpage.url
    vpage.keyboard.press("Shift+Tab")  # one tab stop for the whole strip
    assert vpage.evaluate("document.activeElement.dataset.id") is None
    dialog.get_by_role("button", name=re.compile(r"^Show this frame.s details$")).click()
    wait_for_query(vpage, "image", seven["id"])
    dialog.locator(f'.frame.opened[data-id="{seven["id"]}"]').wait_for()  # its own detail
    link = dialog.get_by_role("link", name="Open the video at 0:07 ↗")
    assert link.get_attribute("href") == f"api/images/{seven['id']}/file#t=7"


def test_the_status_counts_videos_apart(vpage, videos):
    vpage.goto("/?view=jobs")
    status = vpage.locator(".status")
    status.wait_for()
    text = status.inner_text()
    assert re.search(r"videos\s+2\b", text), text
    frames = videos.api("status")["frames"]
    assert re.search(rf"video frames\s+{frames}\b", text), text
    assert "This store is empty" not in vpage.inner_text("#banner")


def test_the_video_opens_at_the_frame_and_seeks(vpage, videos):
    # "Open the video at 0:05" is the file route with a media fragment: the browser starts
    # there, and seeking elsewhere works because the route answers byte ranges.
    hits = videos.api("search", q="yellow square", limit=100)["hits"]
    frame = next(h for h in hits if h["frame_time"] == 5.0)  # only other.webm cuts at 5 s
    vpage.goto(f"/?image={frame['id']}")
    link = vpage.get_by_role("dialog").get_by_role("link", name="Open the video at 0:05 ↗")
    opened = vpage.evaluate(
        """async (href) => {
          const video = document.createElement('video');
          video.muted = true;
          const ready = new Promise((ok, no) => {
            video.addEventListener('loadedmetadata', ok, { once: true });
            video.addEventListener('error', () => no(String(video.error?.message)), { once: true });
          });
          video.src = href;
          document.body.append(video);
          await ready;
          const start = video.currentTime;
          const seeked = new Promise((ok) => video.addEventListener('seeked', ok, { once: true }));
          video.currentTime = 1.5;
          await seeked;
          const ranges = video.seekable.length ? video.seekable.end(0) : 0;
          video.remove();
          return { start, now: video.currentTime, duration: video.duration, ranges };
        }""",
        link.get_attribute("href"),
    )
    assert opened["start"] == pytest.approx(5.0, abs=0.05)
    assert opened["now"] == pytest.approx(1.5, abs=0.05)
    assert opened["ranges"] == pytest.approx(opened["duration"], abs=0.05)
    assert opened["duration"] == pytest.approx(8.0, abs=0.1)
