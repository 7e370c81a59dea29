"""Supervised loops log, back off and carry on; health names a loop that died or keeps failing."""

from __future__ import annotations

import asyncio
import logging

import pytest

from monitor.supervise import Loops


def test_a_failing_round_is_logged_with_the_loops_name_and_the_loop_carries_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, "monitor.supervise")
    rounds: list[int] = []

    async def body() -> float:
        rounds.append(len(rounds))
        if len(rounds) <= 4:
            raise RuntimeError("database is locked")
        return 0.0

    async def scenario() -> tuple[list[str], list[str]]:
        loops = Loops(max_backoff=0.01)
        stop = asyncio.Event()
        loops.start("webhook chat", body, stop)
        while len(rounds) < 4:
            await asyncio.sleep(0.005)
        failing = loops.problems()
        while len(rounds) < 8:
            await asyncio.sleep(0.005)
        stop.set()
        await asyncio.gather(*(t for n in loops.names() if (t := loops.task(n))))
        return failing, loops.problems()

    failing, after = asyncio.run(scenario())
    assert len(failing) == 1 and failing[0].startswith("loop webhook chat failing (")
    assert failing[0].endswith("times): RuntimeError")
    assert after == []
    failures = [r for r in caplog.records if r.getMessage() == "loop webhook chat failing; retrying"]
    (first,) = [r for r in failures if r.levelno == logging.ERROR]  # one line per streak, the rest DEBUG
    assert first.exc_info is not None  # not a database outage: a bug's traceback, once
    assert len(failures) == 4 and {r.failures for r in failures} == {1, 2, 3, 4}  # type: ignore[attr-defined]
    (recovered,) = [r for r in caplog.records if r.getMessage() == "loop webhook chat recovered"]
    assert recovered.failures == 4  # type: ignore[attr-defined]


def test_a_loop_that_dies_is_named_by_health(caplog: pytest.LogCaptureFixture) -> None:
    async def body() -> float:
        return 10.0

    async def scenario() -> list[str]:
        loops = Loops()
        stop = asyncio.Event()
        task = loops.start("sender", body, stop)
        await asyncio.sleep(0.01)
        task.cancel()  # killed from outside, not stopped
        await asyncio.gather(task, return_exceptions=True)
        return loops.problems()

    assert asyncio.run(scenario()) == ["loop sender died: ended"]
    assert not [
        r for r in caplog.records if r.levelno >= logging.ERROR and "never retrieved" in r.getMessage()
    ]
