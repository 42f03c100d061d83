"""Whether two images are the same picture: re-encoded, resized, cropped (up to about 15% a
side), overlaid with text or colour-shifted, but the same picture, not a look-alike of the same
scene or topic.

A whole-image perceptual hash (pHash) survives re-encoding, resizing and colour shifts, but a
10% crop makes it near random, and two pictures of one composition can share it. So the hash only
proposes candidates (`bands`), and the verdict comes from local matching: ORB keypoints of both
pictures (OpenCV), matched by descriptor with Lowe's ratio test, a similarity transform (scale,
small rotation, shift) fitted by RANSAC, and then the pictures themselves compared through it:
their detail (a band between JPEG noise and lighting) correlated block by block where they
overlap. The same picture agrees in almost every block (median correlation 0.87 and more on
`bench/variants.py`'s set); another take of the same scene, or two pictures under the same meme
text, agree in few (0.35 and less), whatever keypoints they share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

SIDE = 256  # pictures are matched at this shorter side (the thumbnails' size)
FEATURES = 600
RATIO = 0.8  # Lowe's ratio test: best match clearly better than the second
RANSAC_PX = 4.0  # reprojection error of an inlier, in pixels at SIDE
MIN_INLIERS = 12  # keypoint matches that one transform explains, to trust the transform
MIN_AGREEMENT = 0.6  # median block correlation of the aligned pictures' detail
SCALES = (0.4, 2.5)  # a variant's scale relative to the other, at SIDE
MAX_ROTATION = 12.0  # degrees
BLOCKS = 8  # the overlap is compared in 8 x 8 blocks; the median block decides
MIN_BLOCKS = 16
BANDS = 4  # the 64-bit pHash split into 4 bands of 16 bits: a match in any band is a candidate


@dataclass(frozen=True)
class Features:
    """A picture's ORB keypoints (x, y at SIDE), their descriptors, its size at SIDE and its
    64-bit pHash."""

    points: np.ndarray  # (n, 2) float32
    descriptors: np.ndarray  # (n, 32) uint8
    size: tuple[int, int]
    phash: int
    detail: np.ndarray  # the picture's mid-frequency band at SIDE (float32, h x w)


@dataclass(frozen=True)
class Verdict:
    """Whether two pictures are the same, and the evidence: keypoint matches that passed the
    ratio test, those one transform explains (inliers), the transform's scale, and how alike
    the pictures' detail is once aligned by it (`agreement`, -1..1)."""

    same: bool
    matches: int
    inliers: int
    scale: float
    agreement: float


def features(image: Image.Image) -> Features:
    """ORB keypoints and the pHash of an RGB picture."""
    import cv2
    import imagehash

    gray = image.convert("L")
    scale = SIDE / min(gray.size)
    if abs(scale - 1.0) > 0.02:
        size = (max(1, round(gray.width * scale)), max(1, round(gray.height * scale)))
        gray = gray.resize(size, Image.Resampling.BILINEAR)
    pixels = np.asarray(gray, np.uint8)
    orb = cv2.ORB_create(nfeatures=FEATURES, edgeThreshold=15, patchSize=15, fastThreshold=10)
    keypoints, descriptors = orb.detectAndCompute(pixels, None)
    points = np.array([k.pt for k in keypoints], np.float32).reshape(-1, 2)
    if descriptors is None:
        descriptors = np.zeros((0, 32), np.uint8)
    phash = int(str(imagehash.phash(gray)), 16)
    return Features(points, descriptors, gray.size, phash, _detail(pixels))


def _detail(pixels: np.ndarray) -> np.ndarray:
    """The band between JPEG noise and lighting: a difference of Gaussians."""
    import cv2

    image = pixels.astype(np.float32)
    return cv2.GaussianBlur(image, (0, 0), 1.0) - cv2.GaussianBlur(image, (0, 0), 6.0)


def agreement(a: Features, b: Features, transform: np.ndarray) -> float:
    """How alike the two pictures' detail is where they overlap, `b` moved onto `a` by
    `transform` (a's points to b's): the median over blocks of their correlation, so text laid
    over both (the same words of a meme template on two pictures) cannot decide it."""
    import cv2

    inverse = cv2.invertAffineTransform(transform)
    height, width = a.detail.shape
    moved = cv2.warpAffine(b.detail, inverse, (width, height), flags=cv2.INTER_LINEAR)
    inside = cv2.warpAffine(
        np.ones_like(b.detail), inverse, (width, height), flags=cv2.INTER_NEAREST
    ).astype(bool)
    scores = []
    step_y, step_x = height // BLOCKS, width // BLOCKS
    for top in range(0, step_y * BLOCKS, step_y):
        for left in range(0, step_x * BLOCKS, step_x):
            block = (slice(top, top + step_y), slice(left, left + step_x))
            mask = inside[block]
            if mask.mean() < 0.9:
                continue  # the block is not in both pictures
            x, y = a.detail[block][mask], moved[block][mask]
            x, y = x - x.mean(), y - y.mean()
            scores.append(float((x * y).sum() / (np.sqrt((x * x).sum() * (y * y).sum()) + 1e-9)))
    return float(np.median(scores)) if len(scores) >= MIN_BLOCKS else 0.0


def bands(phash: int) -> list[str]:
    """The hash's bands as keys (`"2:9f3a"`): pictures whose hashes differ in few bits share
    at least one band (any 3 differing bits leave a band intact)."""
    return [f"{i}:{(phash >> (16 * i)) & 0xFFFF:04x}" for i in range(BANDS)]


def hamming(a: int, b: int) -> int:
    """Bits in which two 64-bit hashes differ."""
    return (a ^ b).bit_count()


def verify(a: Features, b: Features) -> Verdict:
    """Whether `a` and `b` are the same picture (see the module)."""
    import cv2

    if len(a.descriptors) < 2 or len(b.descriptors) < 2:
        return Verdict(False, 0, 0, 0.0, 0.0)
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(a.descriptors, b.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < MIN_INLIERS:
        return Verdict(False, len(good), 0, 0.0, 0.0)
    src = a.points[[m.queryIdx for m in good]]
    dst = b.points[[m.trainIdx for m in good]]
    transform, mask = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PX, maxIters=2000
    )
    if transform is None or mask is None:
        return Verdict(False, len(good), 0, 0.0, 0.0)
    inliers = int(mask.sum())
    scale = float(np.hypot(transform[0, 0], transform[1, 0]))
    rotation = float(np.degrees(np.arctan2(transform[1, 0], transform[0, 0])))
    plausible = (
        inliers >= MIN_INLIERS and SCALES[0] <= scale <= SCALES[1] and abs(rotation) <= MAX_ROTATION
    )
    alike = agreement(a, b, transform) if plausible else 0.0
    return Verdict(plausible and alike >= MIN_AGREEMENT, len(good), inliers, scale, alike)
