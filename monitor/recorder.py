"""Coalesce the feed-row updates of quiet polls (304, unchanged body) into one transaction.

A warm cycle is hundreds of 304s; one database round trip each would cost more
than the HTTP. Updates wait at most `delay` seconds; losing them in a crash
only means a feed is polled a little early next time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from sqlalchemy.engine import Engine

from monitor import store
from monitor.dbthread import DbThread


class Recorder:
    def __init__(self, db: DbThread, engine: Engine, delay: float = 0.05) -> None:
        self._db = db
        self._engine = engine
        self._delay = delay
        self._pending: list[tuple[int, Mapping[str, object]]] = []
        self._sleeper: asyncio.Task[None] | None = None  # the task collecting the next batch
        self._tasks: set[asyncio.Task[None]] = set()

    def add(self, feed_id: int, values: Mapping[str, object]) -> None:
        self._pending.append((feed_id, values))
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
        if batch:
            await self._db(store.record_polls, self._engine, batch)

    async def close(self) -> None:
        """Write everything still waiting (before the database thread closes)."""
        if self._sleeper is not None:
            self._sleeper.cancel()  # still sleeping, so it holds no batch: the write below takes it
            self._sleeper = None
        await asyncio.gather(*self._tasks, return_exceptions=True)  # batches being written
        await self._write()
