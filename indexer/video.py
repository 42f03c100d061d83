"""Video files: told from their first bytes, hashed as a stream, and their frames chosen by what
the picture does (PyAV decodes; it ships FFmpeg).

Codec keyframes are no scene changes (x264 put one at a cut, mpeg4 one every half second, VP9
ignores `skip_frame`), so every frame is decoded and about ten a second are compared, as 32x32
thumbnails, with the one before: a cut is a change of at least `MIN_CUT` and `CUT_RATIO` times
the median of the changes before it (a fixed threshold missed cuts in noisy footage that this
finds). Kept: the first frame, every cut, and a frame at least every `FramePlan.every` seconds;
a frame almost identical to the last kept one is dropped; past `FramePlan.max_frames` the frame
that changed least is let go, so memory stays bounded whatever the video's length.

PyAV is imported on first use: a run without videos never loads it.
"""

from __future__ import annotations

import hashlib
import statistics
import zipfile
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from indexer.records import MediaItem
from picsift.thumbs import THUMB_SIDE

if TYPE_CHECKING:
    import av.video.frame
    from PIL import Image

MAX_VIDEO_BYTES = 8 * 2**30  # a larger file or zip member is refused before it is read
SAMPLE_EVERY = 0.1  # seconds between the frames compared for cuts
MIN_CUT = 0.03  # mean absolute change (0..1) below which nothing is a cut
CUT_RATIO = 6.0  # a cut changes this many times more than the median change before it
HISTORY = 14  # changes the median is taken over
NEAR_IDENTICAL = 0.02  # a frame changed less than this from the last kept one is dropped
SHORT_BY = 1.0  # seconds short of its declared duration a picture is reported as truncated
_SIDE = 32  # thumbnails compared
_BLOCK = 2**20


class VideoError(Exception):
    """A video that cannot be read; the message is the reason, for the report."""


@dataclass(frozen=True)
class FramePlan:
    """Which frames of a video are kept (settings `video_frame_every`, `video_max_frames`)."""

    every: float = 5.0  # at least one frame this many seconds
    max_frames: int = 24  # at most this many frames a video


@dataclass
class Frame:
    """One kept frame: its time from the video's start, the picture (shorter side at most
    `THUMB_SIDE`), and how much it differs from the frame kept before it."""

    time: float
    image: Image.Image
    novelty: float


@dataclass
class VideoFrames:
    """The kept frames of one video, in time order, and what the container says of it."""

    frames: list[Frame]
    width: int
    height: int
    format: str  # "video/" and the codec, e.g. "video/h264"
    duration: float | None
    warning: str | None = None  # the picture broke off part-way: frames before it are kept


_MAGIC_AT_4 = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip")  # MP4, MOV, 3GP


def looks_like_video(head: bytes) -> bool:
    """Whether a file's first bytes are those of a video container (MP4/MOV/3GP, Matroska and
    WebM, AVI, FLV, MPEG-TS and -PS, Ogg, ASF). PyAV decides when the file is decoded: an
    audio-only or damaged one fails there, with its reason."""
    return (
        head[4:8] in _MAGIC_AT_4
        or head.startswith((b"\x1a\x45\xdf\xa3", b"FLV", b"OggS", b"\x00\x00\x01\xba"))
        or head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11")
        or (head.startswith(b"RIFF") and head[8:12] == b"AVI ")
        or (len(head) > 188 and head[0] == 0x47 and head[188] == 0x47)
    )


@contextmanager
def open_video(item: MediaItem) -> Iterator[BinaryIO]:
    """A binary stream of the video's bytes (a file, or a zip member: seekable, decompressed
    as read).

    Raises:
        VideoError: too large to be read.
        OSError, zipfile.BadZipFile, KeyError, ...: it cannot be opened.
    """
    if item.member is None:
        if item.size > MAX_VIDEO_BYTES:
            raise VideoError(_too_large(item.size))
        with item.path.open("rb") as stream:
            yield stream
        return
    with zipfile.ZipFile(item.path) as archive:
        info = archive.getinfo(item.member)
        if info.file_size > MAX_VIDEO_BYTES:
            raise VideoError(_too_large(info.file_size))
        with archive.open(info) as stream:
            yield stream


def _too_large(size: int) -> str:
    return f"too large: {size:,} bytes, over the {MAX_VIDEO_BYTES:,}-byte limit for a video"


def hash_video(item: MediaItem) -> str:
    """The SHA-256 of the video's bytes, read a block at a time (a video is never held whole).

    Raises:
        VideoError, OSError, ...: as `open_video`; VideoError also when a zip member holds
            more than the limit.
    """
    digest = hashlib.sha256()
    read = 0
    with open_video(item) as stream:
        while block := stream.read(_BLOCK):
            read += len(block)
            if read > MAX_VIDEO_BYTES:
                raise VideoError(_too_large(read))
            digest.update(block)
    return digest.hexdigest()


def extract_frames(item: MediaItem, plan: FramePlan) -> VideoFrames:
    """Decode the video and keep its frames as `plan` says (see the module's docstring).

    Raises:
        VideoError: not a video PyAV can open, audio only, a codec it cannot decode, or no
            frame decoded; the message says which.
        OSError, zipfile.BadZipFile, ...: the file cannot be read.
    """
    import av

    with open_video(item) as stream:
        try:
            container = av.open(stream)
        except av.FFmpegError as exc:
            raise VideoError(f"not a readable video: {_ffmpeg_reason(exc)}") from None
        with container:
            video = _video_stream(container)
            picker = _Picker(plan)
            warning = None
            try:
                for frame in container.decode(video):
                    picker.offer(frame)
            except av.FFmpegError as exc:
                if not picker.kept:
                    raise VideoError(f"cannot decode its video: {_ffmpeg_reason(exc)}") from None
                warning = f"damaged after {picker.last_time:.1f} s ({_ffmpeg_reason(exc)})"
            if not picker.kept:
                raise VideoError("no frame could be decoded")
            duration = _duration(container, video, picker.last_time)
            if warning is None and duration and picker.last_time + SHORT_BY < duration:
                warning = (
                    f"its picture ends at {picker.last_time:.1f} s of the {duration:.1f} s the "
                    "file declares (truncated?)"
                )
            return VideoFrames(
                frames=picker.kept,
                width=video.codec_context.width,
                height=video.codec_context.height,
                format=f"video/{video.codec_context.name}",
                duration=duration,
                warning=warning,
            )


def frame_at(stream: BinaryIO, time: float) -> Image.Image:
    """The picture of the frame `extract_frames` kept at `time` seconds, at the thumbnail's
    size, to make a lost thumbnail again.

    Raises:
        VideoError: not a readable video, or it has no frame at `time` any more.
    """
    for _, picture in frames_at(stream, [time], THUMB_SIDE):
        return picture
    raise VideoError(f"no frame at {time:.3f} s: the picture ends before")


def frames_at(
    stream: BinaryIO, times: Iterable[float], side: int
) -> Iterator[tuple[float, Image.Image]]:
    """The pictures of the frames `extract_frames` kept at `times` (seconds, timed from the
    first frame, as it times them), in time order, from one decoding pass, their shorter side
    brought down to `side`. Decodes from the start: frame times then match exactly, where a
    seek lands wherever the codec's keyframes are. A time past the picture's end yields
    nothing.

    Raises:
        VideoError: not a readable video, or it broke off before the last time asked for.
    """
    import av

    wanted = deque(sorted({round(t, 3) for t in times}))
    try:
        container = av.open(stream, mode="r")  # a spooled copy is "w+b": av would write
    except av.FFmpegError as exc:
        raise VideoError(f"not a readable video: {_ffmpeg_reason(exc)}") from None
    with container:
        video = _video_stream(container)
        start = None
        try:
            for frame in container.decode(video):
                if not wanted:
                    return
                if frame.time is None:
                    continue
                start = frame.time if start is None else start
                at = round(frame.time - start, 3)
                if at >= wanted[0]:
                    picture = _picture(frame, side)
                    while wanted and at >= wanted[0]:
                        yield wanted.popleft(), picture
        except av.FFmpegError as exc:
            raise VideoError(f"cannot decode its video: {_ffmpeg_reason(exc)}") from None


def _video_stream(container: av.container.InputContainer) -> av.video.stream.VideoStream:
    if not container.streams.video:
        if container.streams.audio:
            raise VideoError("audio only: the file has no video stream")
        raise VideoError("no video stream")
    video = container.streams.video[0]
    if video.codec_context is None:
        raise VideoError(f"cannot decode its video: no decoder for codec {video.codec.name!r}")
    video.thread_type = "AUTO"
    return video


def _ffmpeg_reason(exc: Exception) -> str:
    """FFmpeg's words for an error, without the errno and the stream's repr."""
    return str(getattr(exc, "strerror", None) or exc)


def _duration(
    container: av.container.InputContainer, video: av.video.stream.VideoStream, last: float
) -> float | None:
    if container.duration:
        return round(container.duration / 1_000_000, 3)
    if video.duration and video.time_base:
        return round(float(video.duration * video.time_base), 3)
    return round(last, 3) if last else None


@dataclass
class _Picker:
    """Frames offered in decoding order; `kept` the chosen ones."""

    plan: FramePlan
    kept: list[Frame] = field(default_factory=list)
    last_time: float = 0.0
    _start: float | None = None
    _sampled_at: float = -1.0
    _previous: np.ndarray | None = None
    _kept_thumb: np.ndarray | None = None
    _changes: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY))

    def offer(self, frame: av.video.frame.VideoFrame) -> None:
        if frame.time is None:
            return
        if self._start is None:
            self._start = frame.time
        now = frame.time - self._start
        self.last_time = max(self.last_time, now)
        if self.kept and now - self._sampled_at < SAMPLE_EVERY - 1e-6:
            return
        self._sampled_at = now
        thumb = _thumb(frame)
        cut = self._is_cut(thumb)
        due = not self.kept or cut or now - self.kept[-1].time >= self.plan.every
        if due:
            self._keep(frame, thumb, now)

    def _is_cut(self, thumb: np.ndarray) -> bool:
        if self._previous is None:
            self._previous = thumb
            return False
        change = float(np.abs(thumb - self._previous).mean())
        median = statistics.median(self._changes) if self._changes else 0.0
        self._changes.append(change)
        self._previous = thumb
        return change >= max(MIN_CUT, CUT_RATIO * median)

    def _keep(self, frame: av.video.frame.VideoFrame, thumb: np.ndarray, now: float) -> None:
        if self._kept_thumb is None:
            novelty = 1.0
        else:
            novelty = float(np.abs(thumb - self._kept_thumb).mean())
            if novelty < NEAR_IDENTICAL:
                return
        self._kept_thumb = thumb
        self.kept.append(Frame(round(now, 3), _picture(frame), novelty))
        if len(self.kept) > self.plan.max_frames:
            least = min(range(1, len(self.kept)), key=lambda i: self.kept[i].novelty)
            del self.kept[least]


def _thumb(frame: av.video.frame.VideoFrame) -> np.ndarray:
    small = frame.reformat(width=_SIDE, height=_SIDE, format="rgb24").to_ndarray()
    return small.astype(np.float32) / 255.0


def _picture(frame: av.video.frame.VideoFrame, side: int = THUMB_SIDE) -> Image.Image:
    """The frame as an RGB image, its shorter side brought down to `side` (by default the
    encoder's and the thumbnail's size)."""
    scale = min(1.0, side / min(frame.width, frame.height))
    width = max(1, round(frame.width * scale))
    height = max(1, round(frame.height * scale))
    return frame.reformat(width=width, height=height, format="rgb24").to_image()
