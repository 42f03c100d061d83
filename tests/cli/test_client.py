"""The client of a running server (cli/client.py): a server that stops answering, or refuses,
is one clear error naming it, never a traceback."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cli.client import Server
from picsift.errors import InputError, PicsiftError
from picsift.settings import Settings


def test_a_server_that_accepts_but_never_answers_is_a_clear_error():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        server = Server(url, Settings(), timeout=0.5)
        with pytest.raises(PicsiftError, match="stopped answering the status") as caught:
            server.get("/api/status", what="the status")
    assert url in str(caught.value) and "0.5 s" in str(caught.value)


class _Refusing(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"message": "q: the query is empty", "parameter": "q"}).encode()
        self.send_response(422 if self.path.startswith("/api/search") else 500)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_refusals_keep_the_server_s_message():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        server = Server(f"http://127.0.0.1:{httpd.server_port}", Settings())
        with pytest.raises(InputError, match="refused the search: q: the query is empty"):
            server.get("/api/search", [("q", "")], "the search")
        with pytest.raises(PicsiftError) as failed:
            server.get("/api/status", what="the status")
        assert not isinstance(failed.value, InputError)  # a server error is not the user's
    finally:
        httpd.shutdown()
        httpd.server_close()
