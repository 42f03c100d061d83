"""`picsift search TEXT`: text-to-image search from the command line (same service as the API)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli import filters
from cli.client import Server, open_or_served
from cli.display import json_line, shown

POSTS_SHOWN = 3  # posts printed under each hit
# Of --json.
FIELDS = ("query", "mode", "min_score", "matched", "matched_capped", "relevance", "hits")


SORTED = (
    "sorted by engagement: the most liked, commented and shared first (each hit's count below "
    "it), images without counts last"
)


def _print_summary(found: dict[str, Any]) -> None:
    """How many images match and whether any stand out, so a ranking is not read as a
    list of matches."""
    count = f"{found['matched']:,}{'+' if found['matched_capped'] else ''}"
    cut = f" scoring at least {found['min_score']}" if found["min_score"] is not None else ""
    if found["mode"] != "image":
        typer.echo(
            f"{count} images ranked by {found['mode']} search{cut} (score: fused rank; "
            "each hit's evidence below it)"
        )
        if found["relevance"]:
            typer.echo(f"by the image: {found['relevance']['verdict']}")
        return
    typer.echo(f"{count} images match{cut}")
    if found["relevance"]:
        typer.echo(found["relevance"]["verdict"])


def _print_hits(hits: list[dict[str, Any]], offset: int, sort: str | None = None) -> None:
    """The hits, one block each; stored text goes through `shown` (scraped names and post
    fields may hold terminal escapes)."""
    if not hits:
        typer.echo("no images match")
    for rank, hit in enumerate(hits, offset + 1):
        topic = "" if hit["topic"] is None else f"  topic {hit['topic']}"
        if hit["topic_label"]:
            topic += f" ({shown(hit['topic_label'])})"
        typer.echo(f"{rank:>3}. {hit['score']:.3f}  {hit['id']}{_frame(hit)}{topic}")
        if sort == "engagement":
            typer.echo(f"       {_engagement(hit)}")
        if hit["caption"]:
            typer.echo(f"       {shown(hit['caption'])}")
        if hit.get("evidence"):
            typer.echo(f"       {_evidence(hit['evidence'])}")
        for post in hit["posts"][:POSTS_SHOWN]:
            who = f" @{post['author']}" if post["author"] else ""
            when = f" {post['timestamp'][:10]}" if post["timestamp"] else ""
            typer.echo("       " + shown(f"{post['dataset']} {post['post_id']}{who}{when}"))
        if hit["n_posts"] > POSTS_SHOWN:
            typer.echo(f"       ... and {hit['n_posts'] - POSTS_SHOWN:,} more posts")


def _engagement(hit: dict[str, Any]) -> str:
    """A hit's engagement and over how many posts (`no engagement counts` for none)."""
    if not hit["engagement_posts"]:
        return "no engagement counts"
    posts = hit["engagement_posts"]
    return f"engagement {hit['engagement']:,} over {posts:,} post{'s' if posts != 1 else ''}"


def _evidence(evidence: dict[str, Any]) -> str:
    """What a text or hybrid hit's rank rests on, in one line: the image's cosine, the BM25
    score per language, the words matched by part."""
    image = evidence["image"]
    parts = [f"image {image:.3f}" if image is not None else "image -"]
    parts.append("text " + ", ".join(f"{lang} {s:.2f}" for lang, s in evidence["text"].items()))
    if evidence["matched"]:
        words = "; ".join(f"{part}: {' '.join(ws)}" for part, ws in evidence["matched"].items())
        parts.append(f"matched {shown(words)}")
    return " · ".join(parts)


def _frame(hit: dict[str, Any]) -> str:
    """Where in its video a frame hit is (`  video ID @ 3.0 s`); empty for an image."""
    if hit["video_id"] is None:
        return ""
    return f"  video {hit['video_id']} @ {hit['frame_time']:.1f} s"


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""

    @app.command()
    def search(
        ctx: typer.Context,
        text: Annotated[list[str], typer.Argument(help="What to look for (terms add up).")],
        not_: filters.Not = None,
        topic: filters.Topic = None,
        exclude_topic: filters.ExcludeTopic = None,
        dataset: filters.Dataset = None,
        author: filters.Author = None,
        tag: filters.Tag = None,
        keyword: filters.Keyword = None,
        date_from: filters.DateFrom = None,
        date_to: filters.DateTo = None,
        variant: filters.Variant = None,
        selection: filters.Selection = None,
        code: filters.Code = None,
        coder: filters.Coder = None,
        group_by: filters.GroupBy = None,
        limit: Annotated[int, typer.Option(help="Number of hits (1..1000).")] = 20,
        offset: Annotated[int, typer.Option(help="Skip this many hits.")] = 0,
        min_score: filters.MinScore = None,
        mode: filters.Mode = None,
        sort: filters.Sort = None,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """Text-to-image search, filtered by topic, dataset, author, tag or date; a video's
        frames are hits of their own (printed with their time), or one per video with
        --group-by video."""
        from cli.common import settings_from
        from picsift.models.factory import encoder_for
        from search.query import SearchRequest
        from search.service import SearchService

        request = SearchRequest.from_options(
            q=[" ".join(text)],
            not_=not_,
            text=keyword,
            topic=topic,
            exclude_topic=exclude_topic,
            dataset=dataset,
            author=author,
            tag=tag,
            date_from=date_from,
            date_to=date_to,
            variant=variant,
            selection=selection,
            code=code,
            coder=coder,
            group_by=group_by,
            limit=limit,
            offset=offset,
            min_score=min_score,
            mode=mode,
            sort=sort,
        ).validate()
        settings = settings_from(ctx)
        opened = open_or_served(settings, "picsift search")
        if isinstance(opened, Server):
            found = opened.get("/api/search", request.to_params(), "the search")
        else:
            with opened:
                result = SearchService(opened, encoder_for(opened, settings)).search(request)
            found = {name: getattr(result, name) for name in FIELDS}
        if as_json:
            typer.echo(json_line({name: found[name] for name in FIELDS}))
        else:
            _print_summary(found)
            if sort == "engagement":
                typer.echo(SORTED)
            _print_hits(found["hits"], offset, sort)
