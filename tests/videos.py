"""Small real videos for the tests, encoded with PyAV: scenes of the toy model's coloured shapes
(`picsift.models.toy.shapes`), each held for a while with a little motion and sensor noise, so
that cuts sit at known times and the toy CLIP can find "the video where a red circle appears at
3 s"."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np
from PIL import Image

from picsift.models.toy.shapes import render

# Container by suffix; the codec each is written with unless one is given.
CODECS = {".mp4": "libx264", ".mov": "libx264", ".mkv": "libx264", ".webm": "libvpx-vp9"}


def scene_frames(
    scenes: Sequence[tuple[float, str]], duration: float, fps: int, size: tuple[int, int], seed: int
) -> list[np.ndarray]:
    """RGB frames of `duration` seconds: scene `(start, "red circle")` shows from `start` until
    the next one starts; inside a scene the shape drifts a pixel every few frames and the noise
    changes every frame (so consecutive frames are near, not exactly, identical)."""
    rng = np.random.default_rng(seed)
    width, height = size
    side = min(width, height)
    stills = []
    for _, name in scenes:
        color, shape = name.split()
        square = np.asarray(render(color, shape, rng, side), dtype=np.float32)
        canvas = np.full((height, width, 3), square[0, 0], dtype=np.float32)
        top, left = (height - side) // 2, (width - side) // 2
        canvas[top : top + side, left : left + side] = square
        stills.append(canvas)
    starts = [start for start, _ in scenes]
    frames = []
    for n in range(round(duration * fps)):
        t = n / fps
        k = max(i for i, start in enumerate(starts) if start <= t + 1e-9)
        shifted = np.roll(stills[k], (n // 4) % 3, axis=1)
        noisy = shifted + rng.normal(0.0, 2.0, size=shifted.shape)
        frames.append(np.clip(noisy, 0, 255).astype(np.uint8))
    return frames


def write_video(
    path: Path,
    scenes: Sequence[tuple[float, str]],
    *,
    duration: float,
    fps: int = 10,
    size: tuple[int, int] = (96, 128),
    codec: str | None = None,
    audio: bool = False,
    seed: int = 0,
) -> Path:
    """Encode the scenes (see `scene_frames`) to `path`, the container taken from its suffix
    (`.mp4`, `.webm`, `.mov`, `.mkv`), with a silent audio track when `audio`."""
    codec = codec or CODECS[path.suffix.lower()]
    frames = scene_frames(scenes, duration, fps, size, seed)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        sound = container.add_stream("aac", rate=16000) if audio else None
        for pixels in frames:
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
        if sound is not None:
            _silence(container, sound, duration)
    return path


def write_audio(path: Path, duration: float = 2.0) -> Path:
    """An audio-only file (AAC in MP4, or by suffix): a video container with no video stream."""
    with av.open(str(path), "w") as container:
        _silence(container, container.add_stream("aac", rate=16000), duration)
    return path


def _silence(container: av.container.OutputContainer, stream, duration: float) -> None:
    samples = 1024
    for n in range(int(duration * stream.rate) // samples):
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, samples), np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate = stream.rate
        frame.pts = n * samples
        container.mux(stream.encode(frame))
    container.mux(stream.encode())


def video_image(path: Path, at: float) -> Image.Image:
    """The frame shown at `at` seconds (for checks against what the indexer kept)."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time >= at - 1e-6:
                return frame.to_image()
    raise ValueError(f"{path} has no frame at {at} s")
