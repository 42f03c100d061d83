"""What a store holds: images, posts, captions, datasets, the topic run. One function for
`picsift status` and the API's /api/status."""

from __future__ import annotations

from typing import TypedDict

from picsift.models.factory import store_model
from picsift.settings import Settings
from picsift.store import Filter, ImageStore, IsEmpty, Match

# Images per page when counting posts: only each post's dataset and id are read, but one image
# may carry thousands of posts.
POSTS_PAGE = 1000


class StoreStatus(TypedDict):
    """What `store_status` returns (`picsift status --json`); /api/status adds server facts."""

    images: int
    posts: int
    post_links: int  # image-post links: a post with three images is one post, three links
    topics: int
    captioned: int
    datasets: dict[str, int]  # images per dataset
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


def store_status(store: ImageStore, settings: Settings) -> StoreStatus:
    """Counts and provenance of a store."""
    status: StoreStatus = {
        "images": 0,
        "posts": 0,
        "post_links": 0,
        "topics": 0,
        "captioned": 0,
        "datasets": {},
        "model": store_model(store.meta, settings),
        "backend": store.backend,
        "store": store.location,
        "topic_run": None,
    }
    if not store.exists:
        return status
    images = store.images
    status["images"] = images.count()
    status["posts"], status["post_links"] = count_posts(store)
    status["captioned"] = images.count(Filter(must_not=(IsEmpty("caption"),)))
    status["datasets"] = images.facet("datasets")
    runs = store.topics.facet("run")
    if runs:
        run = max(runs, key=runs.__getitem__)
        status["topic_run"] = run
        status["topics"] = store.topics.count(
            Filter(must=(Match("run", run),), must_not=(Match("topic", -1),))
        )
    return status
