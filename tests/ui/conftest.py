"""Browser tests: a toy-model store of generated shapes, served by `picsift serve` in a
subprocess, driven by Debian's Chromium through Playwright.

One server per session: `served` indexes a 4CAT-style corpus with the toy CLIP and captioner
(subprocess CLI), then serves it with an API key (so writes go through the UI's key dialog).
Topics are fitted once, through the UI's own "Fit topics" button (`fitted`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from picsift.models.toy import TOY_CAPTIONER_DIR, TOY_CLIP_DIR
from tests.indexer.conftest import post_id, write_4cat_zip, write_tiktok_csv
from tests.ui.helpers import snap

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
N_IMAGES = 144  # 12 of each of the 12 colour/shape classes
API_KEY = "ui-test-key"
PICSIFT = Path(sys.executable).with_name("picsift")
SCREENSHOTS_ENV = "UI_SCREENSHOTS"  # not PICSIFT_*: settings refuse unknown PICSIFT_ names
SHOTS_KEY = pytest.StashKey[Path]()


@dataclass
class Served:
    """A running `picsift serve` and what its store holds."""

    url: str
    root: Path
    truth: dict[str, tuple[str, str]]  # image id -> (colour, shape)
    posts: dict[str, int]  # image id -> number of posts

    def api(self, path: str, **params: Any) -> Any:
        """GET an API path (reads are open) and return its JSON."""
        response = httpx.get(f"{self.url}/api/{path}", params=params, timeout=60)
        response.raise_for_status()
        return response.json()


def _env(store: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PICSIFT_")}
    config = store.parent / "empty.toml"
    config.touch()
    return env | {
        "PICSIFT_STORE": str(store),
        "PICSIFT_MODEL": str(TOY_CLIP_DIR),
        "PICSIFT_CAPTION_MODEL": str(TOY_CAPTIONER_DIR),
        "PICSIFT_CONFIG": str(config),
    }


def truth_of(archive: Path, images: list) -> tuple[dict, dict]:
    """Image ids (UUID of the content hash, as the indexer makes them) -> true class and
    number of posts (the last image is shared by a second post)."""
    truth, posts = {}, {}
    with zipfile.ZipFile(archive) as zf:
        for i, (_, colour, shape) in enumerate(images):
            digest = hashlib.sha256(zf.read(f"{post_id(i)}.jpeg")).hexdigest()
            image_id = str(uuid.UUID(hex=digest[:32]))
            truth[image_id] = (colour, shape)
            posts[image_id] = 2 if i == len(images) - 1 else 1
    return truth, posts


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(url: str, process: subprocess.Popen, log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"picsift serve exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail(f"picsift serve not ready after {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def index_and_serve(
    root: Path, sources: list[Path], serve_args: tuple[str, ...] = (), **env_extra: str
) -> Iterator[str]:
    """Index `sources` with the CLI into `root/store`, then `picsift serve` it (with the API
    key, `serve_args` and `env_extra`) on 127.0.0.1 until the block ends; yields its URL."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`")
    env = _env(root / "store")
    done = subprocess.run(
        [str(PICSIFT), "index", *map(str, sources)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    port = _free_port()
    env |= {"PICSIFT_HOST": "127.0.0.1", "PICSIFT_PORT": str(port), "PICSIFT_API_KEY": API_KEY}
    log = root / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(PICSIFT), "serve", *serve_args],
            env=env | env_extra,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=root,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def serve_corpus(root: Path, n_images: int, **env_extra: str) -> Iterator[Served]:
    """Index a 4CAT-style toy corpus of `n_images` with the CLI, then `picsift serve` it (with
    the API key, and `env_extra`) on 127.0.0.1 until the block ends."""
    images = write_4cat_zip(root / "images.zip", n_images, seed=11)
    write_tiktok_csv(root / "posts.csv", n_images + 2, images)
    sources = [root / "images.zip", root / "posts.csv"]
    with index_and_serve(root, sources, ("--index-root", str(root)), **env_extra) as url:
        truth, posts = truth_of(root / "images.zip", images)
        yield Served(url, root, truth, posts)


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`picsift serve` on 127.0.0.1 over a freshly indexed toy corpus."""
    with serve_corpus(tmp_path_factory.mktemp("ui"), N_IMAGES) as corpus:
        yield corpus


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium (Playwright's own browser download does not work here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, served: Served) -> Iterator[Any]:
    """A fresh browser context (no saved key) on the served UI; JavaScript errors fail the
    test."""
    with open_page(browser, served.url) as page:
        yield page


@contextlib.contextmanager
def open_page(browser: Any, url: str) -> Iterator[Any]:
    """A fresh browser context (no saved key) on the UI at `url`; JavaScript errors fail the
    test."""
    context = browser.new_context(
        base_url=url, viewport={"width": 1280, "height": 860}, accept_downloads=True
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def give_key(page: Any) -> None:
    """Answer the UI's API-key dialog (it appears on the first write)."""
    dialog = page.locator("#key-dialog")
    dialog.wait_for(state="visible")
    page.fill("#key-input", API_KEY)
    dialog.get_by_role("button", name="Save key").click()


@pytest.fixture(scope="session")
def fitted(browser: Any, served: Served, shots: Path) -> Served:
    """Topics fitted once through the UI: the empty state says what to do, the "Fit topics"
    button asks for the API key, runs the job, and the topic cards appear."""
    context = browser.new_context(base_url=served.url, viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.goto("/")
    empty = page.locator("#topics .notice-empty")
    empty.wait_for()
    assert "No topics yet" in empty.inner_text()
    assert "picsift topics fit" in empty.inner_text()
    snap(page, shots, "empty-topics")
    empty.get_by_role("button", name="Fit topics").click()
    give_key(page)
    page.wait_for_function(  # topic cards, or the toast that says the job failed
        "() => document.querySelector('.topic-card')"
        " || /fail/i.test(document.getElementById('toast').textContent)",
        timeout=300_000,
    )
    assert page.locator(".topic-card").count(), page.inner_text("#toast")
    assert page.evaluate("localStorage.getItem('picsift.apiKey')") == API_KEY
    context.close()
    return served


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """Where the screenshots (JPEG) go: $UI_SCREENSHOTS, else `shots` under pytest's basetemp;
    the folder is printed at the end of the run. The reviewed set in tests/ui/screenshots was
    made with UI_SCREENSHOTS=tests/ui/screenshots."""
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path_factory.getbasetemp() / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    request.config.stash[SHOTS_KEY] = folder
    return folder


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Say where the screenshots went (after the run, so output capture cannot hide it)."""
    folder = config.stash.get(SHOTS_KEY, None)
    if folder is not None:
        terminalreporter.write_line(f"UI screenshots: {folder}")


@pytest.fixture
def names(served: Served) -> Iterator[list[str]]:
    """The selection names a test saves under; those still there afterwards are deleted."""
    made: list[str] = []
    yield made
    for name in made:
        httpx.delete(
            f"{served.url}/api/selections/{quote(name, safe='')}",
            headers={"Authorization": f"Bearer {API_KEY}"},
        )


def saved(served: Served, name: str) -> dict[str, Any]:
    """The selection `name` as the API gives it (with its ids, in saved order)."""
    return served.api(f"selections/{quote(name, safe='')}")
