"""Varied synthetic photos (gradients, shapes, blur, noise) for tests that need many distinct
images, not the toy world's twelve classes."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def varied_images(n: int, size: tuple[int, int] = (224, 224), seed: int = 0) -> list[Image.Image]:
    """`n` distinct RGB images of `size` (width, height)."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    images = []
    for _ in range(n):
        c0, c1 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        angle = rng.uniform(0, np.pi)
        t = ((xx * np.cos(angle) + yy * np.sin(angle)) / (w + h))[..., None]
        img = Image.fromarray((c0 * (1 - t) + c1 * t).astype(np.uint8))
        draw = ImageDraw.Draw(img)
        for _ in range(rng.integers(3, 12)):
            x, y, r = rng.integers(0, w), rng.integers(0, h), rng.integers(w // 30, w // 3)
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
            shape((x - r, y - r, x + r, y + r), fill=colour)
        if rng.random() < 0.5:
            img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 3)))
        noise = rng.normal(0, rng.uniform(2, 25), (h, w, 3))
        images.append(Image.fromarray(np.clip(np.asarray(img) + noise, 0, 255).astype(np.uint8)))
    return images
