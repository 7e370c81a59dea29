"""A background thread for database work and CPU-bound parsing.

The pipeline runs every store call (and the parse/classify work that feeds
it) on one such thread: SQLite gets one writer for the bulk of the writes and
the event loop stays free for network I/O. The outbox sender has a second one,
so an alert never waits behind a cycle's parsing; its transactions are a few
rows, and SQLite's busy timeout orders the two writers.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class DbThread:
    """`await db(fn, *args, **kwargs)` runs `fn` on the single worker thread."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="monitor-db")

    async def __call__(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
