"""Where a scan may read, and how what it met there is named in reports.

A link inside an index job's root to a file outside it was indexed and then served (#23): every
path of a job is now resolved and checked against the root. The CLI has no root and follows
links, but names each one that leads out of its source. Names come from files and zips nobody
vetted, so they are shown with control characters made visible.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from indexer.records import Failure, printable

# Control, format (U+202E RIGHT-TO-LEFT OVERRIDE shows `gpj.exe` as `exe.jpg`) and separators.
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp"})


def display_name(name: str) -> str:
    """`name` safe for a report or a terminal: printable UTF-8 (see `printable`), with ESC, NUL,
    newlines and bidi overrides written as a visible `\\u001b` (a terminal would obey them)."""
    return "".join(_visible(ch) for ch in printable(name))


def _visible(ch: str) -> str:
    if unicodedata.category(ch) not in _INVISIBLE:
        return ch
    return f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


@dataclass
class Reach:
    """The links a scan may follow from `source`.

    Attributes:
        source: The source being listed (links leading out of it are reported).
        root: The folder an index job may read; None (the CLI) follows every link.
        failed: Where refused paths go, with the reason.
        warnings: Where followed links that leave the source are named, `link -> target`.
    """

    source: Path
    root: Path | None = None
    failed: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.source = _real(self.source)
        self.root = _real(self.root) if self.root is not None else None

    def allow(self, path: Path) -> Path | None:
        """The path to read `path` by, or None when it leads out of the root (then a failure
        says where to).

        For a job it is the resolved path: the file checked is the file read, even if a link
        on the way is pointed elsewhere in between. The CLI gets `path` back as it is.
        """
        if self.root is None and not path.is_symlink():
            return path
        real = _real(path)
        if self.root is not None and not real.is_relative_to(self.root):
            self.failed.append(Failure(display_name(str(path)), self._refusal(path, real)))
            return None
        if path.is_symlink() and not real.is_relative_to(self.source) and real.exists():
            self.warnings.append(
                f"followed link {display_name(str(path))} -> {display_name(str(real))} "
                f"(outside {display_name(self.source.name)})"
            )
        return path if self.root is None else real

    def _refusal(self, path: Path, real: Path) -> str:
        if not Path(os.path.abspath(path)).is_relative_to(self.root):
            return f"outside the index root {display_name(str(self.root))}"
        return f"link leads outside the index root: {display_name(str(real))}"
