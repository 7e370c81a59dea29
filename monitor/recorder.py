"""Coalesce the feed-row updates of quiet polls (304, unchanged body) into one transaction.

A warm cycle is hundreds of 304s; one database round trip each would cost more
than the HTTP. Updates wait at most `delay` seconds; losing them in a crash
only means a feed is polled again once its lease ends. Each update is written
under its claim's lease token; one whose lease passed to another replica is
reported to `on_fenced` and not written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

from sqlalchemy.engine import Engine

from monitor import store
from monitor.worker import Worker

log = logging.getLogger("monitor.recorder")


class Recorder:
    def __init__(
        self,
        db: Worker,
        engine: Engine,
        on_fenced: Callable[[str], None] = lambda feed: None,
        delay: float = 0.05,
    ) -> None:
        self._db = db
        self._engine = engine
        self._on_fenced = on_fenced
        self._delay = delay
        self._pending: list[tuple[int, int, Mapping[str, object]]] = []
        self._names: dict[int, str] = {}
        self._sleeper: asyncio.Task[None] | None = None  # the task collecting the next batch
        self._tasks: set[asyncio.Task[None]] = set()

    def add(self, name: str, feed_id: int, token: int, values: Mapping[str, object]) -> None:
        self._names[feed_id] = name
        self._pending.append((feed_id, token, values))
        if self._sleeper is None:
            self._sleeper = asyncio.create_task(self._flush_soon())
            self._tasks.add(self._sleeper)
            self._sleeper.add_done_callback(self._tasks.discard)

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self._delay)
        self._sleeper = None  # updates added from now on start the next batch
        await self._write()

    async def _write(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            fenced = await self._db(store.record_quiet, self._engine, batch)
        except Exception as error:  # the feeds' leases run out and they are polled again
            log.error("quiet polls not recorded", extra={"feeds": len(batch), "error": type(error).__name__})
            return
        for feed_id in fenced:
            name = self._names.get(feed_id, str(feed_id))
            token = next(t for f, t, _ in batch if f == feed_id)
            log.warning(
                "lease lost while polling: another replica holds the feed now; results discarded",
                extra={"feed": name, "token": token},
            )
            self._on_fenced(name)

    async def close(self) -> None:
        """Write everything still waiting (before the database thread closes)."""
        if self._sleeper is not None:
            self._sleeper.cancel()  # still sleeping, so it holds no batch: the write below takes it
            self._sleeper = None
        await asyncio.gather(*self._tasks, return_exceptions=True)  # batches being written
        await self._write()
