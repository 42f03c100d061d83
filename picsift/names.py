"""Checks on names and short texts that come from users: queries, labels, dataset names.
Every front-end (command line, API, jobs) applies the same ones."""

from __future__ import annotations

import re

from picsift.errors import InputError

MAX_TEXT_CHARS = 1000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_text(name: str, text: str) -> None:
    """Raise InputError naming `name` for over-long text or control characters."""
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"{name}: {len(text):,} characters, over the {MAX_TEXT_CHARS:,} limit")
    if _CONTROL.search(text):
        raise InputError(f"{name}: contains control characters; send plain text")


def check_dataset(value: str) -> None:
    """Raise InputError for what cannot be a dataset name (4CAT keys and file stems never
    hold a path)."""
    check_text("dataset", value)
    if "/" in value or "\\" in value or value in {"", ".", ".."}:
        raise InputError(f"dataset: {value[:100]!r} is not a dataset name (no paths)")
