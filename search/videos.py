"""The video a frame is of, for an image's detail: its id, file hash, duration, and every kept
frame in time order (the strip the UI steps through)."""

from __future__ import annotations

from typing import Any

from picsift.store import Filter, ImageStore, Match

FRAME_FIELDS = ["frame_time", "frame_index"]
VIDEO_PAGE = 1000  # frames read at a time


def video_detail(store: ImageStore, payload: dict[str, Any]) -> dict[str, Any] | None:
    """The `video` of a point's detail: None for an image, else its video with all frames.

    Args:
        payload: The point's payload (`video_id`, `video_sha256`, `video_duration` and
            `frame_time` are read).
    """
    video = payload.get("video_id")
    if not video:
        return None
    return {
        "id": video,
        "sha256": payload.get("video_sha256", ""),
        "duration": payload.get("video_duration"),
        "frame_time": payload.get("frame_time", 0.0),
        "frames": frames(store, video),
    }


def frames(store: ImageStore, video_id: str) -> list[dict[str, Any]]:
    """Every kept frame of a video, in time order: id, `frame_time` and thumbnail URL."""
    found = store.images.scroll(
        Filter(must=(Match("video_id", video_id),)),
        with_payload=FRAME_FIELDS,
        page_size=VIDEO_PAGE,
    )
    ordered = sorted(
        found, key=lambda r: (r.payload.get("frame_time", 0.0), r.payload.get("frame_index", 0))
    )
    return [
        {
            "id": r.id,
            "frame_time": r.payload.get("frame_time", 0.0),
            "thumb": f"/api/images/{r.id}/thumb",
        }
        for r in ordered
    ]
