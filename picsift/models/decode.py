"""Image decoding for the encoders: fast (JPEG draft mode), robust, one bad file never fails
a batch. Decoding runs in a thread pool (Pillow releases the GIL while decoding)."""

from __future__ import annotations

import io
import struct
import warnings
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Generic, TypeVar

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_ASPECT = 3  # longest side kept, in multiples of the shortest (see bound_aspect)
MAX_PIXELS = 100_000_000  # larger images are refused: decompression-bomb guard

# Modes with more than 8 bits per sample; their values are 16-bit ranged (floats: 0..1).
_WIDE_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I", "F"})

# What `read(item)` can raise for one unreadable file or zip member: damaged data (bad CRC,
# broken deflate), an encrypted member, an unsupported compression method, a missing member.
READ_ERRORS = (
    OSError,
    EOFError,
    KeyError,
    ValueError,
    RuntimeError,
    NotImplementedError,
    zipfile.BadZipFile,
    zlib.error,
)

Source = str | Path | bytes
T = TypeVar("T")

MAX_FILE_BYTES = 256 * 2**20  # a larger file or zip member is refused before it is read
HEAD_BYTES = 64 * 1024  # what decides whether a file is an image at all


class Unreadable(ValueError):
    """A file refused before it is decoded (too large, not an image); the message is the
    reason, for reports."""


def read_media(open_stream: Callable[[], BinaryIO], declared: int) -> bytes:
    """The bytes of one file or zip member, read only if they can be an image.

    A 1.1 MB zip can hold a 1 GiB member of zeros, which was read whole and handed to Pillow
    (3 minutes, 2.6 GB) before being called "not an image". Here the declared size is
    checked first, then the first 64 KB must be what Pillow recognises as an image, and the
    rest is read only up to `MAX_FILE_BYTES` (a member may hold more than it declares).

    Raises:
        Unreadable: too large (declared or actual), or not an image (told from its first
            bytes).
        OSError, zipfile.BadZipFile, ...: the bytes cannot be read (see `READ_ERRORS`).
    """
    if declared > MAX_FILE_BYTES:
        raise Unreadable(f"too large: {declared:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit")
    with open_stream() as stream:
        head = stream.read(HEAD_BYTES)
        if head and not image_header(head):
            raise Unreadable("not an image (unknown format)")
        data = head + stream.read(MAX_FILE_BYTES + 1 - len(head))
    if len(data) > MAX_FILE_BYTES:
        raise Unreadable(f"too large: over the {MAX_FILE_BYTES:,}-byte limit")
    return data


def _accepts(accept: Callable[[bytes], object], prefix: bytes) -> bool:
    try:
        return bool(accept(prefix))
    except (IndexError, ValueError, TypeError, struct.error):  # a prefix of a few bytes
        return False


def image_header(head: bytes) -> bool:
    """Whether Pillow would take `head` for the start of an image: a format's signature, or
    for the few formats without one, a header Pillow can parse."""
    Image.init()
    prefix = head[:16]
    if any(accept and _accepts(accept, prefix) for _, accept in Image.OPEN.values()):
        return True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Image.open(io.BytesIO(head)).close()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        return False
    return True


class DecodeError(Exception):
    """An image could not be decoded; the message is the reason, for reports."""


@dataclass
class ImageInfo:
    """What the original file was, before decoding reduced it."""

    width: int
    height: int
    format: str


def open_image(source: Source, min_side: int) -> Image.Image:
    """Decode `source` to RGB, shorter side about `min_side` (never upscaled)."""
    return decode_image(source, min_side)[0]


def decode_image(source: Source, min_side: int) -> tuple[Image.Image, ImageInfo]:
    """Decode `source` to RGB, shorter side about `min_side` (never upscaled), with the
    original's size (after EXIF rotation) and format.

    JPEGs are decoded at a reduced scale (draft mode) when the image is much larger than
    needed, then resized with a quality filter. EXIF orientation is applied, CMYK, palette,
    16-bit and alpha images become RGB (alpha over white), animations give their first frame.

    Images over `MAX_PIXELS` are refused. Pillow's lower bomb threshold (89.5 M) only warns
    below twice its value, so that warning is ignored and `MAX_PIXELS` decides; above twice
    its value Pillow refuses by itself (reported as too large as well).

    Raises:
        DecodeError: with the reason (not an image, truncated, too large...).
    """
    if source == b"" or (not isinstance(source, bytes) and _empty_file(source)):
        raise DecodeError("empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
            if img.width * img.height > MAX_PIXELS:
                raise DecodeError(
                    f"too large: image is {img.width}x{img.height} pixels, "
                    f"over the {MAX_PIXELS:,} limit"
                )
            fmt = (img.format or "").lower()
            width, height = img.size
            if img.format == "JPEG":
                img.draft("RGB", (min_side, min_side))
            img.seek(0)
            img.load()
            transposed = ImageOps.exif_transpose(img)
            if transposed.size != img.size:  # rotated by 90 or 270 degrees
                width, height = height, width
            image = _reduce(bound_aspect(_to_8bit(transposed)), min_side)
            return _to_rgb(image), ImageInfo(width, height, fmt)
    except DecodeError:
        raise
    except FileNotFoundError:
        raise DecodeError("file not found") from None
    except UnidentifiedImageError:
        raise DecodeError("not an image (unknown format)") from None
    except Image.DecompressionBombError as exc:
        raise DecodeError(f"too large: {exc}") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise DecodeError(f"cannot decode: {exc}") from None


def _empty_file(path: str | Path) -> bool:
    try:
        return Path(path).stat().st_size == 0
    except OSError:
        return False  # let the decoder say why it cannot open it


def _to_8bit(img: Image.Image) -> Image.Image:
    """16-bit and float samples scaled to 8-bit "L" before anything else touches them:
    Pillow's own conversions clip them (a mid-grey 16-bit image would come out white)."""
    if img.mode not in _WIDE_MODES:
        return img
    if img.mode == "F":
        low, high = img.getextrema()
        scale = 255.0 if low >= 0 and high <= 1 else 1 / 256
        return img.point(lambda v: v * scale).convert("L")
    if img.mode == "I":
        # 32-bit samples say nothing of their range: an "I" image holding 8-bit values came
        # out dark when taken as 16-bit, so the range is read from the values themselves.
        high = img.getextrema()[1]
        divisor = 1 if high <= 255 else 256 if high <= 65535 else high / 255
        return img.point(lambda v: v / divisor).convert("L")
    return img.convert("I").point(lambda v: v / 256).convert("L")


def bound_aspect(img: Image.Image) -> Image.Image:
    """The centre of an image longer than `MAX_ASPECT` times its width (or the reverse), cut
    to that ratio. CLIP's processor scales the short side up to its input size before its
    centre crop, so a 65000x1 PNG of 271 bytes became 65000x224 pixels of floats (3 GB);
    the processor only ever keeps the centre square, which this cut keeps whole."""
    long, short = max(img.size), min(img.size)
    if long <= MAX_ASPECT * short:
        return img
    keep = MAX_ASPECT * short
    if img.width > img.height:
        left = (img.width - keep) // 2
        return img.crop((left, 0, left + keep, img.height))
    top = (img.height - keep) // 2
    return img.crop((0, top, img.width, top + keep))


def _reduce(img: Image.Image, min_side: int) -> Image.Image:
    scale = min_side / min(img.size)
    if scale >= 1:
        return img
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    if img.mode not in {"RGB", "RGBA", "L", "LA"}:
        img = img.convert("RGBA" if "A" in img.getbands() or "transparency" in img.info else "RGB")
    return img.resize(size, Image.Resampling.BICUBIC, reducing_gap=3.0)


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in {"RGBA", "LA", "PA"}:
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


@dataclass
class Decoded(Generic[T]):
    """One decoding result: the item it came from, and an image or the reason it failed."""

    item: T
    image: Image.Image | None = None
    info: ImageInfo | None = None
    error: str | None = None


def decode_many(
    items: Iterable[T],
    read: Callable[[T], Source],
    min_side: int,
    workers: int = 4,
    prefetch: int = 64,
) -> Iterator[Decoded[T]]:
    """Decode items in a thread pool, in input order, at most `prefetch` ahead of the caller.

    `read(item)` returns a path or the bytes; it runs in the pool too (zip members, files).
    """

    def work(item: T) -> Decoded[T]:
        try:
            source = read(item)
        except READ_ERRORS as exc:
            return Decoded(item, error=f"cannot read: {exc or type(exc).__name__}")
        try:
            image, info = decode_image(source, min_side)
        except DecodeError as exc:
            return Decoded(item, error=str(exc))
        return Decoded(item, image, info)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode") as pool:
        pending: deque[Future[Decoded[T]]] = deque()
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) >= prefetch:
                yield pending.popleft().result()
        for fut in pending:
            yield fut.result()
