"""`picsift demo`: a generated 4CAT-style corpus, indexed with the toy models, topics, the UI.

Runs with no network: the toy CLIP and captioner ship with picsift. The work directory ends up
as a normal picsift setup that every other command can use (`cd DIR` first, so they read
`DIR/picsift.toml`).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from picsift.settings import Settings, load_settings

CONFIG = """\
# Written by `picsift demo`: the demo's store and its toy models. Commands run in this folder
# read it, e.g. `picsift search "red circle"`.
store = "{store}"
model = "toy"
caption_model = "toy"
"""


def _settings(workdir: Path) -> Settings:
    """The demo's settings, written to `workdir/picsift.toml` for later commands."""
    store = workdir / "store"
    (workdir / "picsift.toml").write_text(CONFIG.format(store=store.as_posix()))
    return load_settings(store=str(store), model="toy", caption_model="toy")


def _command() -> str:
    """How to call picsift from a fresh shell: this installation's script by its full path
    (a virtual environment's bin is on no PATH until activated), else `picsift`."""
    script = Path(sys.executable).with_name("picsift")
    return shlex.quote(str(script)) if script.is_file() else "picsift"


def _fit_topics(settings: Settings) -> None:
    """Fit topics once; later demo runs keep the existing run (new images were assigned)."""
    from picsift.models.factory import captioner_for
    from picsift.store import open_store
    from topics.fit import FitParams, fit_topics
    from topics.table import current_run, list_topics

    if current_run(settings.data_dir) is None:
        captioner = captioner_for(settings)
        with open_store(settings, command="picsift demo") as store:
            fit_topics(store, settings.data_dir, FitParams(), captioner=captioner)
    with open_store(settings, command="picsift demo") as store:
        topics = list_topics(store)
    typer.echo(f"topics: {len(topics)}")
    for topic in topics:
        typer.echo(f"  {topic.topic:>3}  {topic.count:>4} images  {topic.label}")


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""

    @app.command()
    def demo(
        workdir: Annotated[
            Path, typer.Option(help="Where the corpus, the store and picsift.toml go.")
        ] = Path("picsift-demo"),
        no_serve: Annotated[
            bool, typer.Option("--no-serve", help="Stop after fitting topics.")
        ] = False,
    ) -> None:
        """Offline demo: generated corpus + toy models -> index -> topics -> web UI."""
        from cli.index import index_sources
        from picsift.demo.corpus import write_demo_corpus

        workdir = workdir.expanduser().resolve()
        corpus = write_demo_corpus(workdir / "corpus")
        typer.echo(
            f"corpus: {corpus.n_images} images in {corpus.n_posts} posts ({workdir / 'corpus'})"
        )
        settings = _settings(workdir)
        index_sources(settings, [corpus.posts, corpus.archive])
        _fit_topics(settings)
        typer.echo(f"try: cd {shlex.quote(str(workdir))} && {_command()} search 'red circle'")
        if no_serve:
            return
        import uvicorn

        from search.app import create_app, server_url
        from search.uploads import Limits

        api = create_app(settings, limits=Limits(index_roots=(workdir,)))
        typer.echo(f"open {server_url(settings)} in a browser (Ctrl-C stops the demo)")
        uvicorn.run(api, host=settings.host, port=settings.port, log_level="warning")
