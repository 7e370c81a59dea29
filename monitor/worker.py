"""A background thread for blocking work: database calls, CPU-bound parsing.

The event loop stays free for network I/O; each kind of work has its own thread, so one never waits behind
another. The pipeline's database work (claims, filtering, classifying, storing) runs on one thread: SQLite
gets one writer for the bulk of the writes. Feed documents are parsed on another, so a big document delays
neither a claim nor a store, and SQLite's C work (which releases the GIL) runs beside the parsing. The
outbox sender and the daemon's chores have one each; their transactions are a few rows, and SQLite's busy
timeout orders the writers.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Worker:
    """`await worker(fn, *args, **kwargs)` runs `fn` on this worker's single thread (`name`, in tracebacks
    and profiles)."""

    def __init__(self, name: str = "monitor-db") -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def __call__(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
