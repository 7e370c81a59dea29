"""`GET /healthz` and `GET /metrics` on a small asyncio HTTP server (no framework needed for two paths)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Protocol

import sqlalchemy as sa

from monitor.errors import ConfigError

log = logging.getLogger("monitor.health")
READ_LIMIT = 8192


class Probed(Protocol):
    rt: Any

    def healthy(self) -> tuple[bool, str]: ...


def _database_ok(engine: Any) -> tuple[bool, str]:
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as error:
        return False, f"database: {type(error).__name__}"
    return True, "ok"


async def check(daemon: Probed) -> tuple[int, dict[str, object]]:
    scheduler_ok, scheduler_why = daemon.healthy()
    try:
        db_ok, db_why = await asyncio.wait_for(asyncio.to_thread(_database_ok, daemon.rt.engine), 5.0)
    except TimeoutError:
        db_ok, db_why = False, "database: no answer within 5 s"
    ok = scheduler_ok and db_ok
    body: dict[str, object] = {
        "status": "ok" if ok else "unhealthy",
        "scheduler": scheduler_why,
        "database": db_why,
        "feeds": len(daemon.rt.config.feeds),
    }
    return (200 if ok else 503), body


def _response(status: int, body: bytes, content_type: str) -> bytes:
    reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}[status]
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


async def _route(daemon: Probed, method: str, path: str) -> bytes:
    if method not in ("GET", "HEAD"):
        return _response(405, b"method not allowed\n", "text/plain")
    path = path.split("?", 1)[0]
    if path == "/healthz":
        status, body = await check(daemon)
        return _response(status, json.dumps(body).encode() + b"\n", "application/json")
    if path == "/metrics":
        payload = await asyncio.to_thread(daemon.rt.metrics.render)
        return _response(200, payload, "text/plain; version=0.0.4; charset=utf-8")
    return _response(404, b"not found\n", "text/plain")


async def serve(daemon: Probed, host: str, port: int | None) -> asyncio.AbstractServer | None:
    if port is None:
        return None

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), 5.0)
            method, path, *_ = [*request.decode("latin-1").split(" "), "", ""]
            writer.write(await _route(daemon, method, path))
            await writer.drain()
        except (TimeoutError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    try:
        server = await asyncio.start_server(handle, host, port)
    except OSError as error:
        reason = f"cannot listen on {host}:{port}: {error.strerror or error}"
        raise ConfigError(str(daemon.rt.config.path), "health.port", reason) from None
    log.info("health endpoint listening", extra={"host": host, "port": port})
    return server
