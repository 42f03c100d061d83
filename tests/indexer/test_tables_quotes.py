"""A quote left open in a CSV swallows the rows after it into one cell. It must fail at the
line and column of that quote, with the rows before and after it kept."""

from __future__ import annotations

from pathlib import Path

from indexer.records import Failure
from indexer.tables import read_posts
from tests.indexer.fixtures_tables import DATASET

HEADER = "id,author,body,timestamp"
WHEN = "2024-01-31 12:00:00"


def _read(tmp_path: Path, *lines: str, end: str = "\n"):
    path = tmp_path / "posts.csv"
    path.write_bytes((end.join(lines) + end).encode())
    result = read_posts(path, DATASET)
    return path, {post.post_id: post.body for post in result.posts}, result


def _runaway(path: Path, line: int, column: int, last: int) -> Failure:
    return Failure(
        f"{path}:{line}",
        f"the quote at column {column} is not closed where it should be: the text after it, "
        f"to line {last}, was read as one cell; this row is skipped and the lines after it "
        "are read as rows",
    )


def test_an_unterminated_quote_fails_its_row_and_the_rows_after_it_are_kept(tmp_path):
    path, bodies, result = _read(
        tmp_path,
        HEADER,
        f"1,a,fine,{WHEN}",
        f'2,b,"unterminated,{WHEN}',
        f"3,c,ok,{WHEN}",
        f"4,d,ok too,{WHEN}",
    )
    assert bodies == {"1": "fine", "3": "ok", "4": "ok too"}
    assert result.failed == [_runaway(path, 3, 5, 5)]


def test_a_stray_quote_closed_by_a_later_quoted_cell_is_found(tmp_path):
    path, bodies, result = _read(
        tmp_path,
        HEADER,
        f'1,a,"stray,{WHEN}',
        f"2,b,ok,{WHEN}",
        f'3,c,"quoted, with a comma",{WHEN}',
        f"4,d,last,{WHEN}",
    )
    assert bodies == {"2": "ok", "3": "quoted, with a comma", "4": "last"}
    assert result.failed == [_runaway(path, 2, 5, 4)]


def test_an_open_quote_on_the_last_line_without_a_line_end(tmp_path):
    path = tmp_path / "posts.csv"
    path.write_text(f'{HEADER}\n1,a,fine,{WHEN}\n2,b,"open,{WHEN}')
    result = read_posts(path, DATASET)
    assert [post.post_id for post in result.posts] == ["1"]
    assert result.failed == [_runaway(path, 3, 5, 3)]


def test_quoted_cells_over_several_lines_are_read_whole(tmp_path):
    _, bodies, result = _read(
        tmp_path,
        HEADER,
        f'1,a,"first line\r\nsecond ""quoted"" line\r\n",{WHEN}',
        f"2,b,plain,{WHEN}",
        f'3,c,"a, b",{WHEN}',
        end="\r\n",
    )
    assert bodies == {
        "1": 'first line\r\nsecond "quoted" line\r\n',
        "2": "plain",
        "3": "a, b",
    }
    assert result.failed == [] and result.warnings == []


def test_a_second_runaway_quote_after_a_recovered_one(tmp_path):
    path, bodies, result = _read(
        tmp_path,
        HEADER,
        f'1,a,"one,{WHEN}',
        f"2,b,ok,{WHEN}",
        f'3,c,"two,{WHEN}',
        f"4,d,ok,{WHEN}",
    )
    assert bodies == {"2": "ok", "4": "ok"}
    assert result.failed == [_runaway(path, 2, 5, 4), _runaway(path, 4, 5, 5)]


def test_a_row_over_several_lines_with_another_cell_count_is_kept_with_a_warning(tmp_path):
    path, bodies, result = _read(
        tmp_path, HEADER, f'1,a,"two\nlines",{WHEN},surplus', f"2,b,ok,{WHEN}"
    )
    assert bodies == {"1": "two\nlines", "2": "ok"}
    assert result.failed == []
    assert f"{path}: 1 row(s) span several lines and do not have the header's 4 cells" in "\n".join(
        result.warnings
    )
    assert "(first at lines 2-3)" in "\n".join(result.warnings)
