"""The query and filter options `picsift search` and `picsift export` share, named as the
API's filter parameters are (search/deps.py)."""

from __future__ import annotations

from typing import Annotated

import typer

Not = Annotated[list[str] | None, typer.Option("--not", help="Terms to subtract.")]
Topic = Annotated[list[int] | None, typer.Option(help="Only these topics.")]
ExcludeTopic = Annotated[list[int] | None, typer.Option(help="Not these topics.")]
Dataset = Annotated[list[str] | None, typer.Option(help="Only these datasets.")]
Author = Annotated[list[str] | None, typer.Option(help="Only posts by these.")]
Tag = Annotated[list[str] | None, typer.Option(help="Only images with these tags.")]
Keyword = Annotated[str | None, typer.Option(help="Words in the caption, post text or hashtags.")]
DateFrom = Annotated[str | None, typer.Option(help="Posts from (YYYY-MM-DD).")]
DateTo = Annotated[str | None, typer.Option(help="Posts until (YYYY-MM-DD).")]
Variant = Annotated[
    str | None, typer.Option(help="Only the images of this variant group (an image's variant).")
]
GroupBy = Annotated[
    str | None,
    typer.Option(help="One hit per 'post', per 'author' or per 'video' (its best frame)."),
]
Mode = Annotated[
    str | None,
    typer.Option(
        help="Rank by the 'image' (CLIP), the images' 'text' (OCR, caption, posts: BM25), or "
        "'hybrid' (both, fused by rank). Default: hybrid where the images have text and no "
        "--min-score is given, else image.",
        show_default=False,
    ),
]
MinScore = Annotated[
    float | None,
    typer.Option(
        help="Leave out hits scoring below this: cosine (-1..1) in image mode, BM25 (>= 0) in "
        "text mode."
    ),
]
Sort = Annotated[
    str | None,
    typer.Option(
        help="'engagement': most engaged first (likes, comments, shares over an image's "
        "posts), within the ranking's end: needs --min-score, or --mode text.",
        show_default=False,
    ),
]
Selection = Annotated[
    str | None,
    typer.Option(help="Only the images of this saved selection (picsift selections list)."),
]
Code = Annotated[
    str | None, typer.Option(help="Only the images a coder applied this code to (picsift codes).")
]
Coder = Annotated[
    str | None, typer.Option(help="Only the images this coder coded (with --code: applied it).")
]
