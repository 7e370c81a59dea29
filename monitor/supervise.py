"""Work that outlives its own errors, and what health can read about it.

A `Streak` counts one piece of work's consecutive failures: the first failure
of a streak logs one line (with the traceback only when the error is not an
expected database outage), the end of the streak logs "recovered", and the
rounds between log at DEBUG, so an outage of any length costs two lines. A
supervised loop (`Loops`) runs its body again and again under a streak, backing
off 1 s doubling to `max_backoff`; the daemon's poll loop keeps one for its
claims. `/healthz` names a loop that died and any work failing several times
in a row (the database is gone, the disk is full).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from monitor.errors import StoreError

log = logging.getLogger("monitor.supervise")
FAILING_AFTER = 3  # consecutive failures before health reports the work
# The database went away or is locked for a moment: expected in operation, so no traceback.
OUTAGE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError, StoreError, OSError)


@dataclass
class Streak:
    """Consecutive failures of one named piece of work."""

    name: str
    failures: int = 0
    last_error: str | None = None
    failing_since: float | None = None

    def failed(self, error: Exception, retry_in: float | None = None) -> None:
        self.failures += 1
        self.last_error = type(error).__name__
        first = self.failing_since is None
        if first:
            self.failing_since = time.monotonic()
        log.log(
            logging.ERROR if first else logging.DEBUG,
            "%s failing; retrying",
            self.name,
            exc_info=first and not isinstance(error, OUTAGE),
            extra={
                "work": self.name,
                "error": self.last_error,
                "failures": self.failures,
                "retry_in": retry_in,
            },
        )

    def succeeded(self) -> None:
        if self.failing_since is not None:
            log.info(
                "%s recovered",
                self.name,
                extra={
                    "work": self.name,
                    "failures": self.failures,
                    "seconds": round(time.monotonic() - self.failing_since, 1),
                },
            )
        self.failures, self.last_error, self.failing_since = 0, None, None

    def problem(self) -> str | None:
        """What health says while the streak is long enough to matter."""
        if self.failures < FAILING_AFTER:
            return None
        return f"{self.name} failing ({self.failures} times): {self.last_error}"


@dataclass
class LoopState:
    name: str
    streak: Streak
    task: asyncio.Task[None] | None = None
    stopping: bool = False


@dataclass
class Loops:
    """Every supervised loop of one process, by name."""

    max_backoff: float = 5.0  # work resumes within this many seconds of the cause going away
    _loops: dict[str, LoopState] = field(default_factory=dict)

    def start(
        self,
        name: str,
        body: Callable[[], Awaitable[float]],
        stop: asyncio.Event,
        wake: asyncio.Event | None = None,
    ) -> asyncio.Task[None]:
        """Run `body` until `stop` is set; it returns how long to wait before the next round (a `wake`
        cuts the wait short)."""
        state = self._loops[name] = LoopState(name, Streak(f"loop {name}"))
        task = asyncio.create_task(self._run(state, body, stop, wake), name=name)
        state.task = task
        task.add_done_callback(lambda done: self._ended(state, done))
        return task

    def stop(self, name: str) -> None:
        """End one loop on purpose (its target was removed); it leaves the register."""
        state = self._loops.pop(name, None)
        if state is not None and state.task is not None:
            state.stopping = True
            state.task.cancel()

    def problems(self) -> list[str]:
        """Why the loops are not healthy: dead ones and ones failing again and again, by name."""
        found = []
        for state in self._loops.values():
            if state.task is not None and state.task.done() and not state.stopping:
                found.append(f"loop {state.name} died: {state.streak.last_error or 'ended'}")
            elif (problem := state.streak.problem()) is not None:
                found.append(problem)
        return found

    def names(self) -> list[str]:
        return list(self._loops)

    def task(self, name: str) -> asyncio.Task[None] | None:
        state = self._loops.get(name)
        return None if state is None else state.task

    async def _run(
        self,
        state: LoopState,
        body: Callable[[], Awaitable[float]],
        stop: asyncio.Event,
        wake: asyncio.Event | None,
    ) -> None:
        while not stop.is_set():
            if wake is not None:
                wake.clear()
            try:
                wait = await body()
            except Exception as error:  # the loop must outlive any one round
                wait = min(self.max_backoff, 2.0**state.streak.failures)
                state.streak.failed(error, retry_in=wait)
            else:
                state.streak.succeeded()
            await wait_any([e for e in (wake, stop) if e is not None], wait)
        state.stopping = True

    def _ended(self, state: LoopState, task: asyncio.Task[None]) -> None:
        if task.cancelled() or state.stopping:
            return
        error = task.exception()
        state.streak.last_error = type(error).__name__ if error else "ended"
        log.error("loop died", exc_info=error, extra={"loop": state.name, "error": state.streak.last_error})


async def wait_any(events: list[asyncio.Event], timeout: float) -> None:
    """Until any of `events` is set or `timeout` seconds pass."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=max(0.0, timeout), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
