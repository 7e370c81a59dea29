"""A real HTTP/1.1 server on 127.0.0.1 for tests (stdlib only, threaded).

Tests talk to real sockets, so timeouts, dropped connections, chunked
bodies and gzip arrive exactly as they would from a publisher::

    with LoopbackServer() as srv:
        srv.route("/feed", Reply(503, headers={"Retry-After": "5"}), Reply(200, body=xml))
        srv.serve_file("/file.xml", path_to_fixture)        # real ETag / Last-Modified / 304
        srv.route("/hook", Reply(204))                       # POSTs too: body and headers recorded
        ... srv.url("/feed") ...
        method, path, headers, body = srv.requests[0]

Replies of a route are served in order and the last one repeats. Import it as
`from httpserver import LoopbackServer, Reply` (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, Self

__all__ = ["LoopbackServer", "RecordedRequest", "Reply", "unused_port"]


@dataclass(frozen=True)
class Reply:
    """One canned answer.

    delay: seconds to wait before answering (cut short when the server closes).
    drop: read the request, then close the connection without a response.
    chunk_size: send the body with Transfer-Encoding: chunked (no Content-Length) in pieces this big,
    waiting chunk_delay seconds before each piece.
    """

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    chunk_size: int | None = None
    chunk_delay: float = 0.0


class RecordedRequest(NamedTuple):
    """What the server received; header names are lower-case."""

    method: str
    path: str  # the request target, query string included
    headers: dict[str, str]
    body: bytes


Responder = Callable[[RecordedRequest], Reply]
_Request = socket.socket | tuple[bytes, socket.socket]  # socketserver's request type
NOT_FOUND = Reply(404, b"no route", {"Content-Type": "text/plain"})


def unused_port() -> int:
    """A local port nothing listens on (for "connection refused")."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class LoopbackServer:
    """Threaded HTTP server on an ephemeral port; use as a context manager or start()/close()."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._routes: dict[str, Responder] = {}
        self._requests: list[RecordedRequest] = []
        self._in_flight = 0
        self._peak = 0
        self.stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> Self:
        self._server = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop accepting, wake delayed replies, cut idle keep-alive connections, join every thread."""
        if self._server is None or self._thread is None:
            return
        self.stopping.set()
        self._server.shutdown()
        self._server.cut_open_connections()
        self._server.server_close()  # joins the handler threads
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    # -- configuration ---------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("LoopbackServer is not started")
        return self._server.server_address[1]

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path: str, *responses: Reply) -> None:
        """Answer `path` (any method) with `responses` in order; the last one repeats."""
        if not responses:
            raise ValueError("route() needs at least one Reply")
        self.route_with(path, _Sequence(responses))

    def route_with(self, path: str, responder: Responder) -> None:
        """Answer `path` by calling `responder(request)` (runs on a server thread)."""
        with self._lock:
            self._routes[path] = responder

    def serve_file(self, path: str, file_path: Path, content_type: str = "application/xml") -> None:
        """Serve a file (read on every request) with ETag and Last-Modified, answering 304 when they match."""
        self.route_with(path, _FileResponder(file_path, content_type))

    # -- observation -----------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def peak_concurrency(self) -> int:
        """The most requests this server was handling at the same moment."""
        with self._lock:
            return self._peak

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least `count` requests arrived (for senders running in the background)."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._requests) >= count, timeout):
                raise TimeoutError(f"got {len(self._requests)} requests, wanted {count}")
            return list(self._requests)

    # -- used by the handler thread ---------------------------------------------

    def _begin(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self._requests.append(request)
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
            self._lock.notify_all()
            target = request.path
            responder = self._routes.get(target) or self._routes.get(target.partition("?")[0])
        return responder(request) if responder else NOT_FOUND

    def _end(self) -> None:
        with self._lock:
            self._in_flight -= 1


class _Sequence:
    def __init__(self, responses: tuple[Reply, ...]) -> None:
        self._responses = responses
        self._served = 0
        self._lock = threading.Lock()

    def __call__(self, request: RecordedRequest) -> Reply:
        with self._lock:
            reply = self._responses[min(self._served, len(self._responses) - 1)]
            self._served += 1
        return reply


class _FileResponder:
    def __init__(self, file_path: Path, content_type: str) -> None:
        self.file_path = file_path
        self.content_type = content_type

    def __call__(self, request: RecordedRequest) -> Reply:
        body = self.file_path.read_bytes()
        mtime = int(self.file_path.stat().st_mtime)
        validators = {
            "ETag": f'"{hashlib.sha256(body).hexdigest()[:20]}"',
            "Last-Modified": formatdate(mtime, usegmt=True),
        }
        if _is_fresh(request.headers, validators["ETag"], mtime):
            return Reply(304, headers=validators)
        return Reply(200, body, {**validators, "Content-Type": self.content_type})


def _is_fresh(headers: dict[str, str], etag: str, mtime: int) -> bool:
    """RFC 9110 13.2.2: If-None-Match wins; If-Modified-Since only counts without it."""
    if "if-none-match" in headers:
        tags = {tag.strip().removeprefix("W/") for tag in headers["if-none-match"].split(",")}
        return "*" in tags or etag in tags
    if "if-modified-since" in headers:
        try:
            since = parsedate_to_datetime(headers["if-modified-since"]).timestamp()
        except (TypeError, ValueError):
            return False
        return mtime <= since
    return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = True  # server_close() joins handler threads: no thread outlives the test

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], owner: LoopbackServer
    ) -> None:
        self.owner = owner
        self._sockets_lock = threading.Lock()
        self._open_sockets: set[socket.socket] = set()
        super().__init__(address, handler)

    def process_request(self, request: _Request, client_address: Any) -> None:
        if isinstance(request, socket.socket):
            with self._sockets_lock:
                self._open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: _Request) -> None:
        if isinstance(request, socket.socket):
            with self._sockets_lock:
                self._open_sockets.discard(request)
        super().shutdown_request(request)

    def cut_open_connections(self) -> None:
        # A keep-alive handler blocks reading the next request; shutting its socket ends that read.
        with self._sockets_lock:
            for sock in self._open_sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that time out or hang up mid-answer are the point of many tests, not errors.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds an idle keep-alive connection may block a handler thread
    server: _Server

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output quiet

    def _handle(self) -> None:
        owner = self.server.owner
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = owner._begin(RecordedRequest(self.command, self.path, headers, self._read_body(headers)))
        try:
            self._answer(reply, owner.stopping)
        finally:
            owner._end()

    def _read_body(self, headers: dict[str, str]) -> bytes:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = int(headers.get("content-length", "0") or 0)
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            body += self.rfile.read(size)
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return bytes(body)

    def _answer(self, reply: Reply, stopping: threading.Event) -> None:
        if (reply.delay and stopping.wait(reply.delay)) or reply.drop:
            self.close_connection = True
            return
        self.send_response_only(reply.status)
        given = {name.lower() for name in reply.headers}
        # Date and Server only when the Reply does not set its own (a test may fake the server clock).
        if "date" not in given:
            self.send_header("Date", self.date_time_string())
        if "server" not in given:
            self.send_header("Server", self.version_string())
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.chunk_size:
            self._send_chunked(reply, stopping)
            return
        has_body = reply.status >= 200 and reply.status not in (204, 304)
        if has_body and "content-length" not in given:
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if has_body and self.command != "HEAD":
            self.wfile.write(reply.body)

    def _send_chunked(self, reply: Reply, stopping: threading.Event) -> None:
        assert reply.chunk_size
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for start in range(0, len(reply.body), reply.chunk_size):
            if reply.chunk_delay and stopping.wait(reply.chunk_delay):
                self.close_connection = True
                return
            piece = reply.body[start : start + reply.chunk_size]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
