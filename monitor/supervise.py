"""Long-lived loops that outlive their own errors, and a register of them that health can read.

A supervised loop runs its body again and again: an unexpected error is logged
with the loop's name, the loop backs off (1 s doubling to `max_backoff`) and
carries on, so a database outage of any length only pauses it. `/healthz`
reads `problems()`: a loop that died, or one that has failed several times in
a row (the database is gone, the disk is full), is named there.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger("monitor.supervise")
FAILING_AFTER = 3  # consecutive failures before health reports the loop


@dataclass
class LoopState:
    name: str
    failures: int = 0  # consecutive
    last_error: str | None = None
    failing_since: float | None = None
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
        state = self._loops[name] = LoopState(name)
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
                found.append(f"loop {state.name} died: {state.last_error or 'ended'}")
            elif state.failures >= FAILING_AFTER:
                found.append(f"loop {state.name} failing ({state.failures} times): {state.last_error}")
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
                wait = self._failed(state, error)
            else:
                if state.failures:
                    log.info("loop recovered", extra={"loop": state.name, "failures": state.failures})
                state.failures, state.last_error, state.failing_since = 0, None, None
            await wait_any([e for e in (wake, stop) if e is not None], wait)
        state.stopping = True

    def _failed(self, state: LoopState, error: Exception) -> float:
        state.failures += 1
        state.last_error = f"{type(error).__name__}"
        if state.failing_since is None:
            state.failing_since = time.monotonic()
        wait = min(self.max_backoff, 2.0 ** (state.failures - 1))
        # The whole traceback once per episode; then one line per failure.
        log.error(
            "loop failed; retrying",
            exc_info=state.failures == 1,
            extra={
                "loop": state.name,
                "error": state.last_error,
                "failures": state.failures,
                "retry_in": wait,
            },
        )
        return wait

    def _ended(self, state: LoopState, task: asyncio.Task[None]) -> None:
        if task.cancelled() or state.stopping:
            return
        error = task.exception()
        state.last_error = type(error).__name__ if error else "ended"
        log.error("loop died", exc_info=error, extra={"loop": state.name, "error": state.last_error})


async def wait_any(events: list[asyncio.Event], timeout: float) -> None:
    """Until any of `events` is set or `timeout` seconds pass."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=max(0.0, timeout), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
