"""Hostile peers on 127.0.0.1 that `LoopbackServer` cannot play: an HTTP receiver that answers however a
test says (a byte at a time, a gigabyte of body), and a TCP proxy that can make a server disappear.

    with RawReceiver(drip(b"HTTP/1.1 200 OK\\r\\n", every=0.2)) as hook:   # hook.url, hook.connections
        ...
    with TcpProxy(5432) as proxy:    # proxy.port; proxy.cut() refuses and drops; proxy.restore()
        ...
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

__all__ = ["Connection", "RawReceiver", "TcpProxy", "drip", "endless_body"]


@dataclass
class Connection:
    """One request the receiver took: when it came, how many bytes went back, when the client hung up."""

    opened: float
    request: bytes = b""
    sent: int = 0
    closed: float | None = None


Answer = Callable[[socket.socket, Connection, threading.Event], None]


def drip(data: bytes, every: float) -> Answer:
    """Send `data` one byte every `every` seconds (a status line that never ends in time)."""

    def answer(sock: socket.socket, conn: Connection, stop: threading.Event) -> None:
        for byte in data * 1000:
            if stop.wait(every):
                return
            sock.sendall(bytes([byte]))
            conn.sent += 1

    return answer


def endless_body(status: int, size: int) -> Answer:
    """Declare a `size`-byte body and stream zeros until the client stops reading."""
    head = f"HTTP/1.1 {status} X\r\nContent-Length: {size}\r\nContent-Type: text/plain\r\n\r\n".encode()
    chunk = b"0" * 65536

    def answer(sock: socket.socket, conn: Connection, stop: threading.Event) -> None:
        sock.sendall(head)
        while conn.sent < size and not stop.is_set():
            sock.sendall(chunk)
            conn.sent += len(chunk)

    return answer


@dataclass
class RawReceiver:
    answer: Answer
    connections: list[Connection] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> Self:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/hook"
        self._spawn(self._accept)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        for thread in list(self._threads):
            thread.join(5)
        self._listener.close()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            conn = Connection(time.monotonic())
            self.connections.append(conn)
            self._spawn(self._serve, sock, conn)

    def _serve(self, sock: socket.socket, conn: Connection) -> None:
        with sock:
            sock.settimeout(5)
            while b"\r\n\r\n" not in conn.request:
                piece = sock.recv(65536)
                if not piece:
                    break
                conn.request += piece
            with contextlib.suppress(OSError):
                self.answer(sock, conn, self._stop)
            conn.closed = time.monotonic()


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a server; `cut()` drops every connection and refuses new ones (the
    server has disappeared), `restore()` listens again on the same port."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._listener: socket.socket | None = None
        self._links: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._accepting: threading.Thread | None = None

    def __enter__(self) -> Self:
        self.restore()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.cut()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._accepting = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._accepting.start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        if self._accepting is not None:
            self._accepting.join(5)
        with self._lock:
            for sock in self._links:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._links.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._links |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
