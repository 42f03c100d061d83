"""Search API benchmark: the real server (`picsift serve`, uvicorn, its own process) over N
stored vectors with topics, measured over HTTP.

Not a test: prints one table. Builds (once, under bench/out/) a random-initialised ViT-B/32
CLIP in sentence-transformers/HF format (its text tower costs what the real one does; a
word-level tokenizer gives queries the token counts of CLIP's BPE) and an embedded store of N
CLIP-like 512-d vectors with posts, a topic run (50 topics) and map places.
Then, in one run:

  baseline (in-process, no HTTP): text encoding alone, and `SearchService.search` (encoding +
  filtered query + hit shaping) on the same store, with the text tower in fp32 (the baseline)
  and as the server runs it (PICSIFT_TEXT_QUANTIZATION, default auto: int8 on a CPU without
  native bf16);
  over HTTP, one client: p50/p95 of uncached text queries (every query text new, so every one
  is encoded) in image, hybrid and text mode (BM25 of the posts and captions, fused by rank
  with the image ranking in hybrid), without and with a topic filter;
  over HTTP, 20 concurrent clients for 60 s (uncached queries, half with a topic filter):
  requests/s, p50/p95, errors;
  over HTTP again, one client with a topic filter, from a server with the fp32 text tower.

Each row also gives the CPU time the serving process spent per request, and the table the
machine's load average: on a shared machine latency measures the neighbours too, CPU less so.

    .venv/bin/python bench/search.py                 # 100k vectors, 20 clients, 60 s
    .venv/bin/python bench/search.py --n 20000 --seconds 20
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# As `picsift serve` runs inference (see cli/serve.py), so the baseline is comparable.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# The repository root goes before this file's folder, where this very file would shadow the
# `search` package it measures.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.embed import build_random_clip
from bench.search_data import TOPICS, Queries, build_store, build_word_clip
from picsift.store.edge import EdgeStore

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
DESCRIPTIONS: set[str] = set()  # how queries were encoded, printed under the table
MODES = ("image", "hybrid", "text")


@dataclass
class Row:
    what: str
    clients: int
    requests: int
    p50: float
    p95: float
    per_s: float
    errors: int
    cpu_ms: float  # CPU time of the serving process per request, all its threads

    @classmethod
    def of(cls, what, clients, times, cpu_s: float, errors: int = 0, per_s=None) -> Row:
        """A row from per-request milliseconds (rate: one client's, unless given)."""
        rate = per_s if per_s is not None else 1000 / statistics.fmean(times)
        p50, p95 = statistics.median(times), float(np.percentile(times, 95))
        return cls(what, clients, len(times), p50, p95, rate, errors, 1000 * cpu_s / len(times))


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) used so far by this process, or by process `pid`."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def baseline(store_dir: Path, model_dir: Path, n_queries: int, quantization: str) -> list[Row]:
    """In-process numbers on the same store: encoding alone, and the whole service call."""
    from picsift.models.encoder import ClipEncoder
    from picsift.models.runtime import choose_runtime
    from search.query import SearchRequest
    from search.service import SearchService

    encoder = ClipEncoder(str(model_dir), runtime=choose_runtime(), text_quantization=quantization)
    queries = Queries(seed=1, used=set())
    encoder.embed_texts(["warm up"])
    encode = []
    cpu = cpu_seconds()
    for _ in range(n_queries):
        text = queries.next()
        t0 = time.perf_counter()
        encoder.embed_texts([text])
        encode.append((time.perf_counter() - t0) * 1000)
    DESCRIPTIONS.add(encoder.text_description)
    label = _short(encoder.text_description)
    what = f"in-process: text encoding only ({label})"
    rows = [Row.of(what, 1, encode, cpu_seconds() - cpu)]
    with EdgeStore(store_dir) as store:
        service = SearchService(store, encoder)
        service.search(SearchRequest(q=("warm up",), topics=(1,), mode="image"))
        times = []
        cpu = cpu_seconds()
        for i in range(n_queries):
            request = SearchRequest(q=(queries.next(),), topics=(i % TOPICS,), mode="image")
            t0 = time.perf_counter()
            service.search(request)
            times.append((time.perf_counter() - t0) * 1000)
        cpu = cpu_seconds() - cpu
    what = f"in-process: SearchService.search, topic filter ({label})"
    rows.append(Row.of(what, 1, times, cpu))
    return rows


def _short(description: str) -> str:
    """'int8 text', or the runtime the text tower shares with images ('cpu fp32 text')."""
    return "int8 text" if "int8 text tower:" in description else description.split(",")[0] + " text"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(store_dir: Path, port: int, quantization: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env |= {"PICSIFT_STORE": str(store_dir), "PICSIFT_PORT": str(port)}
    env["PICSIFT_TEXT_QUANTIZATION"] = quantization
    env["PICSIFT_CAPTION_MODEL"] = "none"
    log = (OUT / "search-server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-c", "from cli.main import main; main()", "serve"],
        env=env,
        cwd=OUT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"server exited; see {OUT / 'search-server.log'}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.5)
    server.kill()
    raise SystemExit("server did not become ready in 300 s")


def _get(conn: http.client.HTTPConnection, path: str) -> int:
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    return response.status


def _path(text: str, topic: int | None, mode: str = "image") -> str:
    from urllib.parse import urlencode

    params = {"q": text, "limit": 20, "mode": mode}
    params |= {"topic": topic} if topic is not None else {}
    return "/api/search?" + urlencode(params)


def query_encoding(port: int) -> str:
    """How the server says it encodes queries."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/api/status")
    return json.loads(conn.getresponse().read())["query_encoding"]


def one_client(
    server: subprocess.Popen,
    port: int,
    n: int,
    topic: bool,
    used: set[str],
    mode: str = "image",
) -> Row:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    queries = Queries(2 + topic + 10 * MODES.index(mode), used)
    for i in range(10):  # warm-up: connection, first-call paths
        _get(conn, _path(queries.next(), i if topic else None, mode))
    times, errors = [], 0
    cpu = cpu_seconds(server.pid)
    for i in range(n):
        path = _path(queries.next(), i % TOPICS if topic else None, mode)
        t0 = time.perf_counter()
        status = _get(conn, path)
        times.append((time.perf_counter() - t0) * 1000)
        errors += status != 200
    what = f"HTTP: uncached {mode}-mode query" + (", topic filter" if topic else ", no filter")
    DESCRIPTIONS.add(query_encoding(port))
    what += f" ({_short(query_encoding(port))})"
    return Row.of(what, 1, times, cpu_seconds(server.pid) - cpu, errors)


def many_clients(
    server: subprocess.Popen, port: int, clients: int, seconds: float, used: set[str]
) -> Row:
    queries = Queries(99, used)
    times: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, failed, i = [], 0, 0
        while time.monotonic() < stop:
            path = _path(queries.next(), (k + i) % TOPICS if i % 2 else None)
            t0 = time.perf_counter()
            try:
                failed += _get(conn, path) != 200
            except (OSError, http.client.HTTPException):
                failed += 1
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            mine.append((time.perf_counter() - t0) * 1000)
            i += 1
        with lock:
            times.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t0, cpu = time.perf_counter(), cpu_seconds(server.pid)
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed, cpu = time.perf_counter() - t0, cpu_seconds(server.pid) - cpu
    what = f"HTTP: {clients} concurrent clients, {seconds:g} s, half topic-filtered"
    return Row.of(what, clients, times, cpu, errors[0], per_s=len(times) / elapsed)


def print_table(rows: list[Row], n: int, load: tuple[float, float]) -> None:
    print(
        f"N = {n:,} stored 512-d vectors, {TOPICS} topics; random-init ViT-B/32 CLIP; "
        f"{os.cpu_count()} CPUs; 1-min load average {load[0]:.1f} at start, {load[1]:.1f} at end"
    )
    print("| measurement | clients | requests | p50 ms | p95 ms | req/s | errors | CPU ms/req |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r.what} | {r.clients} | {r.requests:,} | {r.p50:.1f} | {r.p95:.1f} | "
            f"{r.per_s:,.1f} | {r.errors} | {r.cpu_ms:.1f} |"
        )
    for description in sorted(DESCRIPTIONS):
        print(f"\nquery encoding: {description}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--text-quantization", default="auto", help="the server's PICSIFT_TEXT_QUANTIZATION"
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    model_dir = build_word_clip(
        build_random_clip(OUT / "clip-vit-b-32-random"), OUT / "clip-vit-b-32-random-words"
    )
    store_dir = OUT / f"search-store-{args.n}"
    print(f"... store of {args.n:,} vectors", file=sys.stderr, flush=True)
    build_store(store_dir, model_dir, args.n)
    load = os.getloadavg()[0]
    print("... in-process baseline", file=sys.stderr, flush=True)
    rows = baseline(store_dir, model_dir, args.queries, "none")
    rows += baseline(store_dir, model_dir, args.queries, args.text_quantization)
    used: set[str] = set()  # the server's cache must never hit
    print("... starting picsift serve", file=sys.stderr, flush=True)
    with serving(store_dir, args.text_quantization) as (server, port):
        for mode in MODES:  # the modes side by side, on the same server
            rows.append(one_client(server, port, args.queries, False, used, mode))
        rows.append(one_client(server, port, args.queries, topic=True, used=used))
        rows.append(one_client(server, port, args.queries, True, used, "hybrid"))
        print(f"... {args.clients} clients for {args.seconds:g} s", file=sys.stderr, flush=True)
        rows.append(many_clients(server, port, args.clients, args.seconds, used))
    if args.text_quantization != "none":
        print("... picsift serve with the fp32 text tower", file=sys.stderr, flush=True)
        with serving(store_dir, "none") as (server, port):
            rows.append(one_client(server, port, args.queries, topic=True, used=used))
    print_table(rows, args.n, (load, os.getloadavg()[0]))


@contextlib.contextmanager
def serving(store_dir: Path, quantization: str) -> Iterator[tuple[subprocess.Popen, int]]:
    """`picsift serve` on a free port, stopped (SIGINT, as Ctrl-C) afterwards."""
    port = _free_port()
    server = start_server(store_dir, port, quantization)
    try:
        yield server, port
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(60)


if __name__ == "__main__":
    main()
