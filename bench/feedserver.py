"""A small, fast HTTP/1.1 server for the benchmarks, run as its own process.

Run: python bench/feedserver.py [--ports K] DOC [DOC ...]

Serves GET /feed/<i> with DOC number i modulo the number of documents, from
memory, with an ETag and Last-Modified (304 on a matching If-None-Match or
If-Modified-Since). Accepts a POST on any path as a webhook: records the
arrival time (time.time(), taken once the body is read) and the payload's event
ids, answering 204. Listens on K loopback ports because the monitor limits
concurrency per host:port (`defaults.per_host`); real feeds live on many hosts.

Protocol on stdout, one line each, flushed: first ``PORTS p1 p2 ...``, then
``HOOK <unix time> <event id>`` for every event in every webhook request.
It runs until killed (SIGTERM) or until its stdin is closed.

It lives in a separate process so it does not compete for the measured
process's GIL; asyncio with hand-rolled parsing keeps it quick enough that the
monitor, not the server, is what gets measured.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from types import TracebackType
from typing import Self

LAST_MODIFIED = formatdate(1_750_000_000, usegmt=True)  # fixed: the documents never change


@dataclass(frozen=True, slots=True)
class Document:
    body: bytes
    etag: str
    content_type: str


def load_documents(paths: list[str]) -> list[Document]:
    documents = []
    for path in paths:
        body = Path(path).read_bytes()
        kind = "atom" if "atom" in Path(path).name else "rss"
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        documents.append(Document(body, etag, f"application/{kind}+xml"))
    return documents


def event_ids(body: bytes) -> list[object]:
    """The event ids in a generic webhook payload: one for an alert, several for a digest."""
    try:
        data = json.loads(body)
    except ValueError:
        return ["?"]
    if not isinstance(data, dict):
        return ["?"]
    if isinstance(data.get("event"), dict):
        return [data["event"].get("id")]
    return [event.get("id") for event in data.get("events") or [] if isinstance(event, dict)] or ["?"]


def response(status: int, reason: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def answer_get(documents: list[Document], target: str, headers: dict[str, str]) -> bytes:
    path = target.partition("?")[0]
    index = path.removeprefix("/feed/")
    if index == path or not index.isdigit():
        return response(404, "Not Found", {"Content-Type": "text/plain"}, b"no such feed")
    document = documents[int(index) % len(documents)]
    validators = {"ETag": document.etag, "Last-Modified": LAST_MODIFIED}
    if headers.get("if-none-match") == document.etag or (
        "if-none-match" not in headers and headers.get("if-modified-since") == LAST_MODIFIED
    ):
        return response(304, "Not Modified", validators)
    return response(200, "OK", {"Content-Type": document.content_type, **validators}, document.body)


def record_hook(body: bytes) -> bytes:
    arrived = time.time()
    lines = "".join(f"HOOK {arrived:.6f} {event_id}\n" for event_id in event_ids(body))
    sys.stdout.write(lines)
    sys.stdout.flush()
    return response(204, "No Content", {})


async def read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    request_line, *header_lines = head.split("\r\n")
    method, target, _version = request_line.split(" ", 2)
    headers = {}
    for line in header_lines:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return method, target, headers, body


def serve(documents: list[Document]) -> object:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                method, target, headers, body = await read_request(reader)
                if method == "POST":
                    writer.write(record_hook(body))
                else:
                    writer.write(answer_get(documents, target, headers))
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            pass  # the client went away, or sent something we do not speak: drop the connection
        except asyncio.CancelledError:
            pass  # shutting down with the connection still open: nothing to report
        finally:
            writer.close()

    return handle


async def main(port_count: int, paths: list[str]) -> None:
    documents = load_documents(paths)
    handler = serve(documents)
    servers = [
        await asyncio.start_server(handler, "127.0.0.1", 0, backlog=1024)  # type: ignore[arg-type]
        for _ in range(port_count)
    ]
    ports = [server.sockets[0].getsockname()[1] for server in servers]
    sys.stdout.write("PORTS " + " ".join(map(str, ports)) + "\n")
    sys.stdout.flush()
    # Stop when the parent closes our stdin (or dies): no orphaned servers.
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


class ServerProcess:
    """This module started as a child process, for the benchmarks' own (measured) process::

    with ServerProcess(paths, ports=20) as server:
        url = server.feed_url(7)
        arrivals = server.wait_for_hooks(100, timeout=30)   # [(unix time, event id), ...]
    """

    def __init__(self, documents: list[Path], ports: int = 1) -> None:
        self._command = [sys.executable, __file__, "--ports", str(ports), *map(str, documents)]
        self._hooks: list[tuple[float, str]] = []
        self._lock = threading.Condition()
        self.ports: list[int] = []

    def __enter__(self) -> Self:
        self._process = subprocess.Popen(
            self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        first = self._process.stdout.readline().split()
        if not first or first[0] != "PORTS":
            self._stop()
            raise RuntimeError("the feed server did not start")
        self.ports = [int(port) for port in first[1:]]
        self._reader = threading.Thread(target=self._read_hooks, daemon=True)
        self._reader.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop()
        self._reader.join(timeout=5)

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (user + system; Linux /proc)."""
        fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _stop(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()  # the server exits when its stdin closes
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def _read_hooks(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            _tag, arrived, event_id = line.split()
            with self._lock:
                self._hooks.append((float(arrived), event_id))
                self._lock.notify_all()

    def feed_url(self, index: int) -> str:
        """Feed `index`, spread round-robin over the ports (each port stands for one publisher)."""
        return f"http://127.0.0.1:{self.ports[index % len(self.ports)]}/feed/{index}"

    def hook_url(self) -> str:
        return f"http://127.0.0.1:{self.ports[0]}/hook"

    def wait_for_hooks(self, count: int, timeout: float) -> list[tuple[float, str]]:
        """The webhook arrivals so far, once there are `count` of them or `timeout` seconds passed."""
        with self._lock:
            self._lock.wait_for(lambda: len(self._hooks) >= count, timeout)
            return list(self._hooks)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ports", type=int, default=1)
    parser.add_argument("documents", nargs="+")
    args = parser.parse_args()
    asyncio.run(main(args.ports, args.documents))
