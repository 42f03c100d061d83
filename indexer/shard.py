"""Partitioning images between indexing workers by content hash (`picsift index --shard I/N`)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from picsift.errors import InputError


@dataclass(frozen=True)
class Shard:
    """Worker `index` of `count` (1-based) owns the images whose point id falls in its slot.

    The point id is the image's content hash, so every image has exactly one owner whatever
    file or post it came from, and each worker's runs stay idempotent.
    """

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """`"2/3"` -> Shard(2, 3).

        Raises:
            InputError: naming --shard when the text is not I/N with 1 <= I <= N.
        """
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match:
            raise InputError(f"--shard: {text!r} is not I/N (e.g. 2/3 for worker 2 of 3)")
        index, count = int(match[1]), int(match[2])
        if not 1 <= index <= count:
            raise InputError(f"--shard: worker {index} of {count} is out of range 1..{count}")
        return cls(index, count)

    def owns(self, point_id: str) -> bool:
        """Whether this worker indexes the image with this point id."""
        return uuid.UUID(point_id).int % self.count == self.index - 1
