"""The video stage of the pipeline: a video seen before only gains posts and files; a new one is
decoded, its kept frames (see `indexer.video`) embedded and written, one point a frame.

A video is known by the SHA-256 of its bytes, so the same video reposted or scraped twice is
decoded once and its frames carry every post. The next video is decoded while the frames of
this one are embedded; at most two videos' frames are held.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from indexer.datasets import RETRIEVE_CHUNK
from indexer.payloads import changed_posts, frame_key, frame_payload, image_id, merged_payload
from indexer.records import Failure, MediaItem, Post
from indexer.video import FramePlan, VideoError, VideoFrames, extract_frames
from picsift.models.decode import READ_ERRORS
from picsift.progress import Progress
from picsift.store import Filter, ImageStore, MatchAny, PointData
from picsift.thumbs import write_thumb

if TYPE_CHECKING:
    from picsift.models.protocols import Encoder

KNOWN_FIELDS = ["posts", "files", "missing", "first_seen", "video_sha256"]


@dataclass
class VideoFile:
    """One distinct video content of a run, with every item and post that used it, and the
    keys of its posts that came from the posts cache."""

    sha256: str
    items: list[MediaItem]
    posts: list[Post]
    cached: set[tuple[str, str]] = field(default_factory=set)

    @property
    def id(self) -> str:
        """The `video_id` of its frames."""
        return image_id(self.sha256)


@dataclass
class VideoReport:
    """What the stage did in one chunk."""

    new: int = 0  # videos decoded and written
    known: int = 0  # videos found in the store
    frames: int = 0  # frame points written
    frame_ids: list[str] = field(default_factory=list)
    joined: set[tuple[str, str]] = field(default_factory=set)  # cached posts that reached the store
    failed: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class VideoStage:
    """Indexes the videos of each chunk into the images collection."""

    def __init__(
        self,
        store: ImageStore,
        encoder: Encoder,
        data_dir: Path,
        plan: FramePlan,
        progress: Progress,
        on_new: Callable[[list[str]], None] | None = None,
    ):
        self.store = store
        self.encoder = encoder
        self.data_dir = data_dir
        self.plan = plan
        self.progress = progress
        self.on_new = on_new

    def index(self, videos: Sequence[VideoFile], indexed_at: str, indexed_ts: int) -> VideoReport:
        """Merge the known videos' new posts and files into their frames; decode, embed and
        write the others."""
        report = VideoReport()
        known = self._merge_known(videos, report)
        fresh = [v for v in videos if v.sha256 not in known]
        for done, (video, frames) in enumerate(self._decoded(fresh, report), 1):
            if frames is not None:
                self._write(video, frames, indexed_at, indexed_ts, report)
            self.progress("video", done, len(fresh))
        return report

    def _merge_known(self, videos: Sequence[VideoFile], report: VideoReport) -> set[str]:
        by_sha = {v.sha256: v for v in videos}
        shas = list(by_sha)
        known: set[str] = set()
        for start in range(0, len(shas), RETRIEVE_CHUNK):
            flt = Filter(
                must=(MatchAny("video_sha256", tuple(shas[start : start + RETRIEVE_CHUNK])),)
            )
            updates = []
            for record in self.store.images.scroll(flt, with_payload=KNOWN_FIELDS):
                video = by_sha[record.payload["video_sha256"]]
                known.add(video.sha256)
                update = merged_payload(record.payload, video.items, video.posts)
                if update is not None:
                    updates.append((record.id, update))
                    report.joined.update(changed_posts(record.payload, update, video.cached))
            self.store.images.set_payloads(updates)
        report.known = len(known)
        return known

    def _decoded(
        self, videos: Sequence[VideoFile], report: VideoReport
    ) -> Iterator[tuple[VideoFile, VideoFrames | None]]:
        """Each video with its frames (None when it failed: the failure is in the report), the
        next one decoded meanwhile."""
        with ThreadPoolExecutor(1, thread_name_prefix="video") as pool:
            pending: deque[tuple[VideoFile, Future[VideoFrames | str]]] = deque()
            for video in videos:
                pending.append((video, pool.submit(self._frames, video)))
                if len(pending) >= 2:
                    yield self._result(*pending.popleft(), report)
            while pending:
                yield self._result(*pending.popleft(), report)

    def _frames(self, video: VideoFile) -> VideoFrames | str:
        """The kept frames, or why the video cannot be read."""
        try:
            return extract_frames(video.items[0], self.plan)
        except VideoError as exc:
            return str(exc)
        except READ_ERRORS as exc:
            return f"cannot read: {exc}"

    @staticmethod
    def _result(
        video: VideoFile, future: Future[VideoFrames | str], report: VideoReport
    ) -> tuple[VideoFile, VideoFrames | None]:
        frames = future.result()
        if isinstance(frames, str):
            report.failed.extend(Failure(item.location, frames) for item in video.items)
            return video, None
        if frames.warning:
            report.warnings.append(
                f"{video.items[0].location}: {frames.warning}; the {len(frames.frames)} frame(s) "
                "before it are indexed"
            )
        return video, frames

    def _write(
        self,
        video: VideoFile,
        frames: VideoFrames,
        indexed_at: str,
        indexed_ts: int,
        report: VideoReport,
    ) -> None:
        vectors = self.encoder.embed_images([frame.image for frame in frames.frames])
        points = []
        for index, (frame, vector) in enumerate(zip(frames.frames, vectors, strict=True)):
            key = frame_key(video.sha256, frame.time)
            write_thumb(self.data_dir, key, frame.image)
            payload = frame_payload(
                video.sha256, video.items, video.posts, frames, index, indexed_at, indexed_ts
            )
            points.append(PointData(image_id(key), vector, payload))
        self.store.images.upsert(points)
        ids = [p.id for p in points]
        report.new += 1
        report.frames += len(points)
        report.frame_ids += ids
        report.joined.update(video.cached)
        if self.on_new:
            self.on_new(ids)
