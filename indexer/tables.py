"""Post tables (4CAT CSV, NDJSON, Zeeschuimer exports) and hand-made image tables -> `Post`s.

The format is told from the content, not the extension. Every cell is read as a string: TikTok
ids are 19 digits and would be rounded as numbers. Bad rows become failures naming the file and
line; the good rows are always kept.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

from indexer.columns import Roles
from indexer.records import ScanResult
from indexer.tables_common import (
    Draft,
    PostCollector,
    at,
    bom_encoding,
    csv_rows,
)
from indexer.tables_json import read_json_array, read_ndjson
from picsift.errors import InputError

TABLE_SUFFIXES = frozenset({".csv", ".tsv", ".ndjson", ".jsonl", ".json"})
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})

_SPREADSHEET_NUMBER = re.compile(r"\d(\.\d+)?E\+\d+", re.IGNORECASE)
_SNIFF_BYTES = 4096
_BINARY_SHARE = 0.05  # control bytes in a file's first bytes that make it binary
_SHOWN_COLUMNS = 25


def is_post_table(path: Path) -> bool:
    """Whether `path` looks like a post table: a table extension and text (not binary) content.

    Dotfiles are never tables: `.metadata.json` in a 4CAT zip describes media, not posts.
    """
    if path.suffix.lower() not in TABLE_SUFFIXES or path.name.startswith("."):
        return False
    try:
        return path.is_file() and _sniff(path) != "binary"
    except OSError:
        return False


def read_posts(path: Path, dataset: str) -> ScanResult:
    """Read a 4CAT post table: CSV ("Download CSV", "Convert NDJSON to CSV"), NDJSON or JSON.

    Args:
        path: The table. Its format is told from the content: `{` starts NDJSON (4CAT's own
            file, or a Zeeschuimer export), `[` a JSON array, anything else a CSV/TSV.
        dataset: The dataset the posts belong to.

    Returns:
        The posts in file order, the rows that could not be used (as failures named
        `file:line`) and warnings about the whole file.
    """
    collector = PostCollector(path, dataset)
    try:
        kind = _sniff(path)
        if kind == "empty":
            collector.warn("empty file, no posts")
        elif kind == "binary":
            collector.fail(None, "not a text table (binary content); expected CSV or NDJSON")
        elif kind == "ndjson":
            read_ndjson(path, collector)
        elif kind == "json":
            read_json_array(path, collector)
        else:
            _read_csv_posts(path, collector)
    except OSError as exc:
        collector.fail(None, f"cannot read the file ({exc.strerror or exc})")
    return collector.finish()


def read_image_table(
    path: Path, image_column: str, dataset: str
) -> tuple[ScanResult, list[tuple[Path, str]]]:
    """Read a hand-made table (CSV, or Parquet with pyarrow) with a column of image paths.

    Relative image paths are resolved against the table's folder. An absolute path that does
    not exist here (a table made in Colab names `/content/...`) is looked up under the table's
    folder by its trailing parts, with a warning.

    Args:
        path: The table.
        image_column: The column holding the image paths.
        dataset: The dataset the posts belong to.

    Returns:
        The posts (one per post id; the id comes from an `id`/`post_id` column, else the image
        file stem) and the `(image path, post id)` pairs, one per row with an image.

    Raises:
        InputError: The table cannot be read, or has no column `image_column`.
    """
    collector = PostCollector(path, dataset, warn_repeats=False)
    try:
        rows = _parquet_rows(path) if _is_parquet(path) else csv_rows(path, collector)
        header = next(rows, None)
    except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
        reason = getattr(exc, "strerror", None) or exc
        raise InputError(f"{path}: cannot read the table ({reason})") from exc
    names = _header_names(header, collector)
    image_index = _find_column(names, image_column)
    if image_index is None:
        raise InputError(
            f"{path}: no column {image_column!r}; the table has {_shown(names) or 'no columns'}. "
            "Pass one of them as the image column."
        )
    columns = _Columns(names, skip={image_index})
    pairs: list[tuple[Path, str]] = []
    for line, cells in rows:
        raw = _cell(cells, image_index).strip()
        if not raw:
            collector.fail(line, f"empty {names[image_index]!r} cell, no image")
            continue
        image = _resolve_image(raw, path.parent, line, collector)
        post_id = _cell(cells, columns.id).strip() or image.stem
        pairs.append((image, post_id))
        collector.add(columns.draft(post_id, cells), line)
    return collector.finish(), pairs


def _sniff(path: Path) -> str:
    """`empty`, `binary`, `ndjson`, `json` or `csv`, from the first bytes of the file.

    The first bytes are decoded by their byte-order mark (UTF-16 tables are text), and a
    stray NUL does not make a table binary: only a share of control bytes that no text has.
    """
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    text = head.decode(bom_encoding(head) or "utf-8", errors="replace").lstrip("\ufeff")
    text = text.lstrip()
    if not text:
        return "empty"
    control = sum(1 for ch in text if ch < " " and ch not in "\t\r\n")
    if control > _BINARY_SHARE * len(text):
        return "binary"
    return {"{": "ndjson", "[": "json"}.get(text[:1], "csv")


def _read_csv_posts(path: Path, collector: PostCollector) -> None:
    rows = csv_rows(path, collector)
    header = next(rows, None)
    if header is None:
        collector.warn("empty file, no posts")
        return
    names = _header_names(header, collector)
    columns = _Columns(names)
    if columns.id is None:
        collector.fail(
            None,
            f"no 'id' column, so its rows cannot be linked to images; the header (line "
            f"{header[0]}) has {_shown(names)}",
        )
        return
    id_name = names[columns.id]
    seen_rows = False
    for line, cells in rows:
        seen_rows = True
        post_id = _cell(cells, columns.id).strip()
        if not post_id:
            collector.fail(line, f"empty {id_name!r} cell, the row has no post id")
            continue
        if _SPREADSHEET_NUMBER.fullmatch(post_id):
            collector.note(
                "have an id in scientific notation, rounded by a spreadsheet; it will not match "
                "the media file names, re-download the CSV from 4CAT",
                f"{at(line)}, id {post_id!r}",
            )
        if len(cells) > len(names):
            collector.note(
                "have more cells than the header has columns, the surplus cells are dropped",
                at(line),
            )
        collector.add(columns.draft(post_id, cells), line)
    if not seen_rows:
        collector.warn("only a header row, no posts")


def _header_names(
    header: tuple[int | str, list[str]] | None, collector: PostCollector
) -> list[str]:
    """The header's column names (see `_column_names`), with a warning naming those that
    repeat: fields are picked by column name whatever its case, so only the first of each can
    be the post's id, author, text..., and a table with two `id` columns is easily misread."""
    if header is None:
        return []
    line, cells = header
    spellings: dict[str, list[str]] = {}
    for cell in cells:
        if cell.strip():
            spellings.setdefault(cell.strip().casefold(), []).append(cell.strip())
    repeats = [names for names in spellings.values() if len(names) > 1]
    if repeats:
        listed = ", ".join(f"{names[0]!r} ({len(names)} times)" for names in repeats)
        collector.warn(
            f"the header ({at(line)}) repeats column names: {listed}; the first of each is "
            "read (as the post field of that name, if there is one), the others are kept as "
            "extra columns (an exact repeat named 'NAME (2)', 'NAME (3)')"
        )
    return _column_names(cells)


def _column_names(cells: list[str]) -> list[str]:
    """Header cells as unique names: blank ones numbered, repeats suffixed ` (2)`, ` (3)`."""
    names: list[str] = []
    for number, cell in enumerate(cells, 1):
        base = cell.strip() or f"column {number}"
        name, copy = base, 1
        while name in names:
            copy += 1
            name = f"{base} ({copy})"
        names.append(name)
    return names


def _find_column(names: list[str], wanted: str) -> int | None:
    if wanted in names:
        return names.index(wanted)
    folded = [name.casefold() for name in names]
    return folded.index(wanted.casefold()) if wanted.casefold() in folded else None


def _shown(names: list[str]) -> str:
    shown = ", ".join(repr(name) for name in names[:_SHOWN_COLUMNS])
    more = len(names) - _SHOWN_COLUMNS
    return (f"columns {shown}" + (f" and {more} more" if more > 0 else "")) if names else ""


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index] if index is not None and index < len(cells) else ""


class _Columns:
    """A header's `Roles`, for rows of cells; `skip` (the image column) is no post field."""

    def __init__(self, names: list[str], skip: Collection[int] = ()) -> None:
        self.names = names
        self.kept = [(i, name) for i, name in enumerate(names) if i not in skip]
        self.roles = Roles(name for _, name in self.kept)
        self.id = next((i for i, name in self.kept if name == self.roles.id), None)

    def draft(self, post_id: str, cells: list[str]) -> Draft:
        row = {name: cells[i] if i < len(cells) else "" for i, name in self.kept}
        return self.roles.draft(post_id, row)


def _resolve_image(raw: str, folder: Path, line: int | str, collector: PostCollector) -> Path:
    image = Path(raw).expanduser()
    if not image.is_absolute():
        return folder / image
    if image.exists():
        return image
    for start in range(1, len(image.parts)):
        candidate = folder.joinpath(*image.parts[start:])
        if candidate.exists():
            collector.note(
                "name an absolute image path that does not exist here; used the file with the "
                "same trailing path under the table's folder",
                f"{at(line)}, {raw!r} -> {candidate}",
            )
            return candidate
    return image


def _is_parquet(path: Path) -> bool:
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return True
    with path.open("rb") as handle:
        return handle.read(4) == b"PAR1"


def _parquet_rows(path: Path) -> Iterator[tuple[int | str, list[str]]]:
    """Like `csv_rows` for a Parquet file: the header, then `("row N", cells as text)`."""
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise InputError(
            f"{path}: reading Parquet needs the 'pyarrow' package (pip install pyarrow); "
            "or save the table as CSV"
        ) from exc
    table = pq.read_table(path)
    yield 0, list(table.column_names)
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    for number, values in enumerate(zip(*columns, strict=True), 1):
        yield f"row {number}", [_parquet_text(value) for value in values]


def _parquet_text(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
