"""Indexing benchmark: end-to-end `picsift index` rate beside the seed path's encode-only rate.

Not a test: prints one table. With a random-initialised ViT-B/32 (the real model's
architecture, built by bench/embed.py) it indexes N generated 720x1280 JPEGs into a fresh
embedded store (hash, decode, embed, thumbnail, upsert), measures the seed notebooks' path
(`SentenceTransformer.encode` on full-size PIL images, fp32, encode only) on a sample in the
same run, then times an unchanged re-run of the same N images. Last, the ceiling: the image
tower's FLOPs per image (counted) against this CPU's best measured matrix-multiply rate at the
tower's own shape, fp32 and dynamic int8 alike, so the table says how far any CPU code path here
could go.

Videos, in the same run and with the same encoder: a folder of N generated H.264 videos
(720x1280, 30 fps, a toy shape held per 3-second scene, drifting, with sensor noise; generated
once into bench/out) indexed into another fresh store (hash, decode every frame, pick the kept
frames, embed, thumbnail, upsert): videos/s and kept frames/s, the latter beside the seed
path's images/s; then PyAV decoding every frame alone (the floor of the decoding part), and an
unchanged re-run.

    .venv/bin/python bench/index.py [--images 1000] [--seed-sample 200] [--videos 12]
        [--video-seconds 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from embed import OUT, baseline, build_random_clip, write_images  # noqa: E402

from indexer.cache import IndexCache  # noqa: E402
from indexer.reader import MediaReader  # noqa: E402
from indexer.run import Sources  # noqa: E402
from indexer.run import run_index as index_sources  # noqa: E402
from picsift.models.encoder import ClipEncoder  # noqa: E402
from picsift.models.runtime import choose_runtime, configure_threads  # noqa: E402
from picsift.models.toy.shapes import COLORS, SHAPES, render  # noqa: E402
from picsift.store.edge import EdgeStore  # noqa: E402

SCENE_SECONDS = 3.0


def run_index(folder: Path, store_dir: Path, encoder: ClipEncoder) -> tuple[float, dict]:
    """Scan the folder and index it; returns (seconds, report)."""
    t0 = time.perf_counter()
    cache = IndexCache(store_dir)
    with EdgeStore(store_dir) as store, MediaReader() as reader:
        sources = Sources((folder,), "bench")
        run = index_sources(store, encoder, cache, store_dir, sources, read=reader.read)
    cache.close()
    return time.perf_counter() - t0, run.report


def write_videos(
    folder: Path, n: int, seconds: float, size: tuple[int, int] = (720, 1280), fps: int = 30
) -> list[Path]:
    """n H.264 MP4s of `seconds` each (width, height = `size`): a toy shape per scene of
    `SCENE_SECONDS`, drifting a pixel every few frames over sensor noise (so no two frames are
    equal and the cuts are real cuts). Kept in `folder` for later runs."""
    import av

    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"video{i:03d}.mp4" for i in range(n)]
    width, height = size
    rng = np.random.default_rng(0)
    noise = [rng.normal(0.0, 3.0, (height, width, 3)).astype(np.float32) for _ in range(4)]
    for i, path in enumerate(paths):
        if path.exists():
            continue
        scenes = [_still(i, k, size) for k in range(int(np.ceil(seconds / SCENE_SECONDS)))]
        partial = path.with_suffix(".part.mp4")
        with av.open(str(partial), "w") as container:
            stream = container.add_stream("libx264", rate=fps, options={"preset": "veryfast"})
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            for f in range(round(seconds * fps)):
                still = scenes[int(f / fps / SCENE_SECONDS)]
                pixels = np.roll(still, (f // 4) % 8, axis=1) + noise[f % len(noise)]
                frame = np.clip(pixels, 0, 255).astype(np.uint8)
                container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
            container.mux(stream.encode())
        partial.rename(path)
    return paths


def _still(video: int, scene: int, size: tuple[int, int]) -> np.ndarray:
    """Scene `scene` of video `video`: a toy shape, square, centred on its own background."""
    width, height = size
    rng = np.random.default_rng(1000 * video + scene)
    kind = (video * 5 + scene) % (len(COLORS) * len(SHAPES))
    color, shape = COLORS[kind % len(COLORS)], SHAPES[kind // len(COLORS)]
    side = min(width, height)
    square = np.asarray(render(color, shape, rng, side), dtype=np.float32)
    canvas = np.empty((height, width, 3), np.float32)
    canvas[:] = square[0, 0]
    top, left = (height - side) // 2, (width - side) // 2
    canvas[top : top + side, left : left + side] = square
    return canvas


def decode_only(paths: list[Path]) -> tuple[float, int]:
    """(seconds, frames) for PyAV to decode every frame of the videos, threaded as the indexer
    decodes: the floor under the decoding part of indexing them."""
    import av

    t0 = time.perf_counter()
    frames = 0
    for path in paths:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            frames += sum(1 for _ in container.decode(stream))
    return time.perf_counter() - t0, frames


def matmul_rate(hidden: int, mlp: int, tokens: int) -> tuple[float, float]:
    """Best (fp32 GFLOPS, dynamic-int8 GOPS) of the tower's MLP matmul for a batch of 32 images."""
    import torch

    x = torch.randn(32 * tokens, hidden)
    fp32 = torch.nn.Linear(hidden, mlp)
    int8 = torch.ao.quantization.quantize_dynamic(
        torch.nn.Sequential(fp32), {torch.nn.Linear}, dtype=torch.qint8
    )
    rates = []
    for layer in (fp32, int8):
        with torch.inference_mode():
            layer(x)
            seconds = []
            for _ in range(7):
                t0 = time.perf_counter()
                layer(x)
                seconds.append(time.perf_counter() - t0)
        rates.append(2 * x.shape[0] * hidden * mlp / statistics.median(seconds) / 1e9)
    return rates[0], rates[1]


def ceiling(model) -> tuple[float, float, float]:
    """(GFLOP per image of the image tower, fp32 GFLOPS, int8 GOPS) measured on this CPU."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    clip = model[0].model
    vision = clip.config.vision_config
    pixels = torch.zeros(1, 3, vision.image_size, vision.image_size)
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        clip.get_image_features(pixel_values=pixels)
    tokens = (vision.image_size // vision.patch_size) ** 2 + 1
    fp32, int8 = matmul_rate(vision.hidden_size, vision.intermediate_size, tokens)
    return counter.get_total_flops() / 1e9, fp32, int8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--seed-sample", type=int, default=200)
    parser.add_argument("--videos", type=int, default=12)
    parser.add_argument("--video-seconds", type=float, default=15.0)
    args = parser.parse_args()
    cores = configure_threads()
    runtime = choose_runtime()
    clip_dir = build_random_clip(OUT / "clip-vit-b-32-random")
    paths = write_images(OUT / "jpegs-720x1280", args.images)
    videos = write_videos(
        OUT / f"videos-720x1280-{args.video_seconds:g}s", args.videos, args.video_seconds
    )
    encoder = ClipEncoder(str(clip_dir), runtime=runtime)
    model = encoder.model
    baseline(model, paths[:8])  # warm-up

    t0 = time.perf_counter()
    baseline(model, paths[: args.seed_sample])
    seed_rate = args.seed_sample / (time.perf_counter() - t0)

    with tempfile.TemporaryDirectory() as tmp:
        store_dir = Path(tmp) / "store"
        first_s, first = run_index(paths[0].parent, store_dir, encoder)
        rerun_s, rerun = run_index(paths[0].parent, store_dir, encoder)
        video_store = Path(tmp) / "videos"
        video_s, video_run = run_index(videos[0].parent, video_store, encoder)
        video_rerun_s, video_rerun = run_index(videos[0].parent, video_store, encoder)
    assert first["new"] == len(paths) and rerun["known"] == len(paths), (first, rerun)
    assert video_run["new_videos"] == len(videos) and not video_run["failed"], video_run
    assert video_rerun["known_videos"] == len(videos), video_rerun
    decode_s, decoded = decode_only(videos)
    kept = video_run["new_frames"]
    frame_rate = kept / video_s

    rate = len(paths) / first_s
    gflop, fp32, int8 = ceiling(model)
    best = max(fp32, int8) / gflop
    print(f"CPU threads: {cores}; runtime: {runtime.precision} ({runtime.reason})")
    print("| measure | images | seconds | images/s | vs seed encode-only |")
    print("|---|---|---|---|---|")
    print(
        f"| seed path: encode only (full-size PIL, fp32) | {args.seed_sample} | "
        f"{args.seed_sample / seed_rate:.1f} | {seed_rate:.1f} | 1.00 |"
    )
    print(
        f"| picsift index, end to end (hash, decode, embed, thumbnail, upsert) | {len(paths)} | "
        f"{first_s:.1f} | {rate:.1f} | {rate / seed_rate:.2f} |"
    )
    print(f"| picsift index, unchanged re-run | {len(paths)} | {rerun_s:.2f} | - | - |")
    print(
        f"| picsift index, {len(videos)} videos of {args.video_seconds:g} s end to end (hash, "
        "decode every frame, pick, embed, thumbnail, upsert) | "
        f"{kept} frames kept | {video_s:.1f} | {frame_rate:.1f} frames/s, "
        f"{len(videos) / video_s:.2f} videos/s | {frame_rate / seed_rate:.2f} |"
    )
    print(
        f"| PyAV decoding every frame of those videos, alone | {decoded} frames decoded | "
        f"{decode_s:.1f} | {decoded / decode_s:.0f} decoded/s, "
        f"{len(videos) / decode_s:.2f} videos/s | - |"
    )
    print(
        f"| picsift index, videos, unchanged re-run | {len(videos)} videos | "
        f"{video_rerun_s:.2f} | - | - |"
    )
    print(
        f"| ceiling: image tower {gflop:.1f} GFLOP/image at this CPU's best matmul rate "
        f"(fp32 {fp32:.0f} GFLOPS, int8 {int8:.0f} GOPS), model alone | - | - | "
        f"{best:.1f} | {best / seed_rate:.2f} |"
    )


if __name__ == "__main__":
    main()
