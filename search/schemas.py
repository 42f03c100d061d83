"""Response and request models of the API (separate from the stored payloads)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ErrorOut(BaseModel):
    """Every 4xx/5xx answer: what was wrong, and which parameter when one is to blame."""

    error: str = Field(description="Short code, e.g. invalid_parameter, not_found.")
    parameter: str | None = Field(None, description="The parameter or field at fault.")
    message: str


class PostOut(BaseModel):
    dataset: str
    post_id: str
    author: str
    timestamp: str
    url: str


class EvidenceOut(BaseModel):
    """What a text or hybrid hit's rank rests on (its score is a fused rank, no measure)."""

    image: float | None = Field(description="Cosine similarity of the image to the query.")
    text: dict[str, float] = Field(
        description="BM25 score of the image's text in each language (0: no word matched)."
    )
    matched: dict[str, list[str]] = Field(
        description="The words the query matched, by part of the text (ocr, caption, body, "
        "hashtags, transcript); parts without one are left out."
    )


class HitOut(BaseModel):
    id: str
    score: float | None = Field(
        description="Image mode: cosine similarity; text and hybrid: the fused rank score "
        "(sum of 1/(60 + rank)), see `evidence`; null when browsing (no q)."
    )
    sha256: str
    topic: int | None
    topic_label: str | None
    caption: str | None
    video_id: str | None = Field(
        description="The video this hit is a frame of (null for an image); its frames share "
        "the video's posts."
    )
    frame_time: float | None = Field(
        description="Seconds from the video's start the frame shows (null for an image)."
    )
    thumb_url: str
    n_posts: int = Field(description="How many posts use the image.")
    engagement: int | None = Field(
        description="Likes, comments and shares summed over the image's posts that have those "
        "counts (null: indexed before picsift stored it; `picsift store migrate` adds it)."
    )
    engagement_posts: int | None = Field(description="How many posts that sum is over.")
    posts: list[PostOut] = Field(
        description="Its first 20 posts, in stored order (the order they were first indexed); "
        "the rest from /api/images/{id}/posts."
    )
    evidence: EvidenceOut | None = Field(
        None, description="Text and hybrid modes: the scores and words the rank rests on."
    )


class HistogramOut(BaseModel):
    lo: float = Field(description="Lowest sampled score (left edge of the first bin).")
    hi: float = Field(description="Highest sampled score (right edge of the last bin).")
    counts: list[int] = Field(description="Sampled images per equal-width bin, lo to hi.")


class RelevanceOut(BaseModel):
    """Where a text query's strong matches end: CLIP ranks every image for any text."""

    edge: float | None = Field(
        description="Score above which an image stands out for this query; null when the "
        "store is too small to calibrate one."
    )
    strong: int | None = Field(description="Images matching the filters above the edge.")
    strong_capped: bool = Field(description="More strong matches than counted (10,000).")
    verdict: str = Field(description="The edge in words, e.g. 'no strong matches: ...'.")
    median: float | None = Field(description="The query's median score over the sample.")
    histogram: HistogramOut | None = Field(description="Scores of a sample of the store.")
    sample: int = Field(description="Images the histogram and median come from.")
    method: str = Field(description="How the edge was computed, in one sentence.")


class SearchOut(BaseModel):
    query: str
    mode: str = Field("image", description="What the query ranked by: image, text or hybrid.")
    hits: list[HitOut]
    limit: int
    offset: int
    next_offset: int | None = Field(description="Offset of the next page; null on the last.")
    group_by: str | None = None
    min_score: float | None = Field(None, description="Hits scoring below it were left out.")
    matched: int | None = Field(
        None,
        description="Images matching the filters (and scoring at least min_score): exact, "
        "counted up to 10,000 when by score.",
    )
    matched_capped: bool = Field(False, description="More images match than `matched`.")
    relevance: RelevanceOut | None = Field(
        None,
        description="Text queries in image and hybrid modes: where the image ranking's strong "
        "matches end (hybrid: the image leg's; a hit's evidence says what its text adds).",
    )


class PostDetail(PostOut):
    body: str = ""
    hashtags: list[str] = []
    extra: dict[str, Any] = {}


class PostsOut(BaseModel):
    """A page of one image's posts, in stored order (the order they were first indexed)."""

    id: str
    n_posts: int = Field(description="How many posts use the image.")
    offset: int
    limit: int
    next_offset: int | None = Field(description="Offset of the next page; null on the last.")
    posts: list[PostDetail]


class FileOut(BaseModel):
    dataset: str | None
    name: str = Field(description="File name, or archive name and member (no server path).")


class FrameOut(BaseModel):
    id: str = Field(description="The frame's point id (an image id for every other route).")
    frame_time: float = Field(description="Seconds from the video's start.")
    thumb: str = Field(description="The frame's thumbnail URL.")


class VideoOut(BaseModel):
    """The video a frame is of, with all its kept frames (a strip to step through)."""

    id: str = Field(description="The video id (`video_id` of its frames' hits).")
    sha256: str = Field(description="SHA-256 of the video file's bytes.")
    duration: float | None = Field(description="Seconds; null when the container does not say.")
    frame_time: float = Field(description="Where in the video this frame is, in seconds.")
    frames: list[FrameOut] = Field(description="Every kept frame of the video, in time order.")


class OcrOut(BaseModel):
    """The text in an image, read by Tesseract (`picsift ocr`, or `index` with PICSIFT_OCR)."""

    text: str = Field(description="Lines in reading order; empty when no text was found.")
    language: str | None = Field(description="The language most letters were read in.")
    confidence: float | None = Field(description="Mean word confidence, 0..100; null: no text.")
    words: int
    source: str = Field(description="'original' (the file, full size) or 'thumbnail'.")
    languages: str = Field(description="The languages Tesseract was asked for (deu+eng).")
    min_confidence: float = Field(description="Words less sure than this were dropped.")


class ImageOut(BaseModel):
    id: str
    sha256: str
    width: int | None
    height: int | None
    format: str | None
    caption: str | None
    ocr: OcrOut | None = Field(description="The text read in the image (null: not read yet).")
    tags: list[str]
    topic: int | None
    topic_label: str | None
    topic_score: float | None
    topic_by: str | None
    topic_run: str | None
    xy: list[float] | None
    n_posts: int
    first_seen: int | None
    indexed_at: str | None
    missing: bool
    datasets: list[str]
    posts: list[PostDetail]
    files: list[FileOut]
    thumb_url: str
    file_url: str = Field(description="The original file (for a video frame: the video's).")
    similar_url: str
    video: VideoOut | None = Field(description="Null for an image; for a video frame, its video.")
    variant: str | None = Field(
        None, description="Its variant group (copies of one picture); null: not grouped yet."
    )
    variant_size: int | None = Field(None, description="How many images the group holds.")


class TopicOut(BaseModel):
    topic: int
    label: str
    keywords: list[str]
    count: int
    representatives: list[str]
    collage_url: str
    auto_label: str
    renamed: bool
    merged_from: list[int]
    run: str = Field(description="The topic run the topic is of.")
    xy: list[float] = Field(description="Its centre on the topic map: the mean of its images'.")


class RunOut(BaseModel):
    run: str
    created_at: str
    model: str
    n_images: int
    n_fitted: int
    params: dict[str, Any]
    previous: str | None


class TopicsOut(BaseModel):
    run: RunOut | None
    topics: list[TopicOut]


class MapCell(BaseModel):
    i: int = Field(description="Column of the cell, 0 at x_min.")
    j: int = Field(description="Row of the cell, 0 at y_min.")
    x: float = Field(description="Centre of the cell.")
    y: float
    count: int
    topic: int = Field(description="The most common topic in the cell.")
    sample: str = Field(description="An image id in the cell.")


class MapBounds(BaseModel):
    x_min: float
    x_max: float
    y_min: float
    y_max: float


class MapBinsOut(BaseModel):
    run: str | None
    total: int = Field(description="Images on the map within the bounds.")
    bins: int
    bounds: MapBounds | None
    cells: list[MapCell]


class MapPoint(BaseModel):
    id: str
    x: float
    y: float
    topic: int


class MapPointsOut(BaseModel):
    run: str | None
    total: int
    offset: int
    next_offset: int | None
    points: list[MapPoint]


class TimelineRow(BaseModel):
    period: str
    topic: int
    posts: int


class TimelineOut(BaseModel):
    interval: str
    rows: list[TimelineRow]


class RenameIn(BaseModel):
    label: str = Field(min_length=1, max_length=200)


class MergeIn(BaseModel):
    topics: list[int] = Field(min_length=2, max_length=100)
    label: str | None = Field(None, min_length=1, max_length=200)


class IndexIn(BaseModel):
    """Index server-side paths (folders, zips, 4CAT exports, CSV/NDJSON tables)."""

    paths: list[str] = Field(min_length=1, max_length=100)
    dataset: str | None = Field(None, max_length=200)
    image_column: str | None = Field(None, max_length=200)
    captions: bool = True


class TopicsIn(BaseModel):
    """Fit topics on every stored image, or assign images without a topic."""

    action: Literal["fit", "assign"] = "fit"
    min_topic_size: int = Field(5, ge=2, le=100_000)
    nr_topics: int | None = Field(None, ge=2, description="Reduce to this many topics.")
    seed: int = 42
    sample: int = Field(50_000, ge=100, le=10_000_000)
    captions: bool = Field(True, description="Caption representatives of wordless topics.")


class GroupOut(BaseModel):
    """One variant group's circulation (see `search.circulation`)."""

    variant: str
    images: int
    posts: int
    accounts: int
    datasets: list[str]
    first_seen: str | None
    last_seen: str | None
    weeks: dict[str, int] = Field(description="Posts per week, by the week's Monday.")
    engagement: dict[str, int] = Field(description="likes, comments, shares, plays: sums.")
    engagement_posts: dict[str, int] = Field(description="Posts each sum is over.")
    engaged: int = Field(description="likes + comments + shares.")


class CirculationOut(BaseModel):
    groups: list[GroupOut]
    total: int = Field(description="Groups of two or more images in the store.")
    sort: str


class VariantsIn(BaseModel):
    """Group the images without a variant group, or (`again`) every image anew."""

    again: bool = Field(False, description="Drop every group first and group all images anew.")


class JobProgress(BaseModel):
    stage: str
    done: int
    total: int


class JobOut(BaseModel):
    id: str
    kind: str
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    params: dict[str, Any]
    progress: JobProgress | None
    stages: dict[str, JobProgress]
    result: dict[str, Any] | None
    error: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    url: str


class JobsOut(BaseModel):
    jobs: list[JobOut]


class StatusOut(BaseModel):
    images: int = Field(description="Images (video frames are counted apart).")
    videos: int = Field(description="Videos indexed as frames.")
    frames: int = Field(description="Kept frames of the videos, each a point searched as images.")
    posts: int = Field(description="Distinct posts ((dataset, post id) pairs).")
    post_links: int = Field(description="Image-post links: a post with 3 images counts 3.")
    topics: int
    captioned: int
    text_read: int = Field(
        description="Images and video frames whose text was read (OCR), none found included."
    )
    text_languages: list[str] = Field(
        description="Languages of the text vectors (text and hybrid search); empty: the store "
        "was made before text search (`picsift store migrate`)."
    )
    datasets: dict[str, int]
    model: str
    backend: str
    store: str
    topic_run: str | None
    version: str
    query_encoding: str
    jobs: dict[str, int]
    read_requires_key: bool
    write_requires_key: bool


class HealthOut(BaseModel):
    status: Literal["ok", "starting"]
