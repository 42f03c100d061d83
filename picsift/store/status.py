"""What a store holds: images, videos and their frames, posts, captions, datasets, the topic
run. One function for `picsift status` and the API's /api/status."""

from __future__ import annotations

from typing import TypedDict

from picsift.models.factory import store_model
from picsift.settings import Settings
from picsift.store import Filter, ImageStore, IsEmpty, Match

# Images per page when counting posts: only each post's dataset and id are read, but one image
# may carry thousands of posts.
POSTS_PAGE = 1000
# A video's kept frames are points of the images collection; only an image has no `video_id`,
# and each video has exactly one frame numbered 0.
IS_IMAGE = IsEmpty("video_id")
IMAGES = Filter(must=(IS_IMAGE,))
FRAMES = Filter(must_not=(IS_IMAGE,))
VIDEOS = Filter(must=(Match("frame_index", 0),))


class StoreStatus(TypedDict):
    """What `store_status` returns (`picsift status --json`); /api/status adds server facts."""

    images: int  # image points: the frames of videos are counted apart
    videos: int
    frames: int  # the videos' kept frames, each a point searched like an image
    posts: int
    post_links: int  # image-post links: a post with three images is one post, three links
    topics: int
    captioned: int  # images with a caption
    text_read: int  # images and video frames whose text was read (OCR), none found included
    text_languages: list[str]  # of the text vectors; empty: a store made before text search
    datasets: dict[str, int]  # points per dataset (images and frames: what a filter searches)
    model: str
    backend: str
    store: str
    topic_run: str | None


FIELDS = tuple(StoreStatus.__annotations__)


def count_posts(store: ImageStore) -> tuple[int, int]:
    """Distinct posts ((dataset, post id) pairs) and image-post links: a post with three
    images is one post and three links. Post ids are kept per dataset, so memory grows with
    the distinct posts (about 100 bytes each), not with the images."""
    seen: dict[str, set[str]] = {}
    links = 0
    fields = ["posts[].dataset", "posts[].post_id"]
    for record in store.images.scroll(with_payload=fields, page_size=POSTS_PAGE):
        posts = record.payload.get("posts") or []
        links += len(posts)
        for post in posts:
            seen.setdefault(post.get("dataset", ""), set()).add(post.get("post_id", ""))
    return sum(map(len, seen.values())), links


def media_counts(store: ImageStore) -> tuple[int, int, int]:
    """Images, videos and video frames in the store (exact counts)."""
    images = store.images
    return images.count(IMAGES), images.count(VIDEOS), images.count(FRAMES)


def store_status(store: ImageStore, settings: Settings) -> StoreStatus:
    """Counts and provenance of a store."""
    status: StoreStatus = {
        "images": 0,
        "videos": 0,
        "frames": 0,
        "posts": 0,
        "post_links": 0,
        "topics": 0,
        "captioned": 0,
        "text_read": 0,
        "text_languages": [],
        "datasets": {},
        "model": store_model(store.meta, settings),
        "backend": store.backend,
        "store": store.location,
        "topic_run": None,
    }
    if not store.exists:
        return status
    status["text_languages"] = list(store.meta.text_languages) if store.meta else []
    images = store.images
    status["images"], status["videos"], status["frames"] = media_counts(store)
    status["posts"], status["post_links"] = count_posts(store)
    status["captioned"] = images.count(Filter(must=(IS_IMAGE,), must_not=(IsEmpty("caption"),)))
    status["text_read"] = images.count(Filter(must_not=(IsEmpty("ocr"),)))
    status["datasets"] = images.facet("datasets")
    runs = store.topics.facet("run")
    if runs:
        run = max(runs, key=runs.__getitem__)
        status["topic_run"] = run
        status["topics"] = store.topics.count(
            Filter(must=(Match("run", run),), must_not=(Match("topic", -1),))
        )
    return status
