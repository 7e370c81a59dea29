"""A background thread for blocking work: database calls and CPU-bound parsing.

The event loop stays free for network I/O. The pipeline runs every store call (and the parse/classify work
that feeds it) on one such thread: SQLite gets one writer for the bulk of the writes. The outbox sender has a
second one, so an alert never waits behind a cycle's parsing, and the daemon's chores a third; their
transactions are a few rows, and SQLite's busy timeout orders the writers. (A separate parse thread was
measured and withdrawn: under the GIL it cost the cold cycle more than it overlapped.)
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
