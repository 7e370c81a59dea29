"""The poll loop: the one place polls start. Claim feeds for the free slots, poll each, claim again.

The daemon calls `fill` on every tick (an APScheduler interval job) and again
whenever a poll ends while more feeds were due; `poll --once` calls
`poll_named`. Either way a feed is polled only under a claim (claims.py), at
most `defaults.max_concurrency` at a time, and a crashed poll never stops the
loop: its lease simply runs out and the feed is claimed again.

While feeds keep coming due, the loop holds up to one batch of claims ahead of
its free slots, so a finished poll's slot is refilled at once instead of after
a claim's round trip (which may wait behind parsing on the database thread).
A claim that waited so long its lease could run out mid-poll is not started;
one still waiting at shutdown is released for another replica.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from monitor import claims
from monitor.claims import Claim
from monitor.config import LEASE_MARGIN, FeedConfig
from monitor.pipeline import Context, PollOutcome, poll_feed
from monitor.supervise import OUTAGE, Streak

log = logging.getLogger("monitor.pollloop")


class PollLoop:
    def __init__(
        self,
        ctx: Context,
        replica: str,
        feeds: Callable[[], Mapping[str, FeedConfig]],
        on_claimed: Callable[[int], None] = lambda count: None,
    ) -> None:
        self.ctx = ctx
        self.replica = replica
        self.feeds = feeds  # the current config's feeds by name (a reload replaces them)
        self.on_claimed = on_claimed
        self.inflight: dict[asyncio.Task[PollOutcome], int] = {}  # running polls and their feeds' ids
        self.ready: deque[Claim] = deque()  # claimed ahead, waiting for a free slot
        self.counts: Counter[str] = Counter()
        self.stopped = False
        self._claiming = asyncio.Lock()
        self._more_due = False  # the last claim filled every slot: more feeds may be waiting
        self._refills: set[asyncio.Task[None]] = set()
        self.claiming = Streak("poll loop")  # health names it while claims keep failing

    @property
    def free(self) -> int:
        return self.ctx.config.defaults.max_concurrency - len(self.inflight)

    async def fill(self) -> None:
        """Claim due feeds for every free slot, and a batch ahead, and start polling them."""
        if self.stopped or self._claiming.locked():
            return
        async with self._claiming:
            try:
                await self._claim_due()
            except Exception as error:  # the database is away: the next tick claims again
                self.claiming.failed(error)
            else:
                self.claiming.succeeded()

    async def until_idle(self) -> None:
        """Claim and poll until nothing is due and nothing is in flight (a whole cycle: the benchmarks)."""
        while True:
            async with self._claiming:
                got = await self._claim_due()
            if not got and not self.inflight and not self.ready:
                return
            if self.inflight:
                await asyncio.wait(set(self.inflight), return_when=asyncio.FIRST_COMPLETED)

    def _wanted(self) -> int:
        """How many more claims to hold: one per poll slot plus a batch ahead, once half a batch is missing
        (fewer would spend a round trip on a handful of feeds)."""
        batch = self.ctx.config.defaults.max_concurrency
        wanted = 2 * batch - len(self.inflight) - len(self.ready)
        return wanted if wanted >= max(1, batch // 2) else 0

    async def _claim_due(self) -> int:
        wanted = self._wanted()
        if wanted <= 0:
            return 0
        lease = self.ctx.config.replicas.lease
        busy = {*self.inflight.values(), *(c.state.id for c in self.ready)}
        got = await self.ctx.db(claims.claim_due, self.ctx.engine, self.replica, wanted, lease, busy)
        self._more_due = len(got) == wanted
        if got:
            self.on_claimed(len(got))
        self.ready.extend(got)
        self._start_ready(fresh=len(got))
        return len(got)

    def _start_ready(self, fresh: int = 0) -> None:
        """Start waiting claims in the free slots. The newest `fresh` were claimed just now; an older one
        whose lease could run out before its poll ends is dropped (its feed is due again when it does)."""
        known = self.feeds()
        while self.ready and self.free > 0 and not self.stopped:
            claim = self.ready.popleft()
            feed = known.get(claim.state.name)
            if len(self.ready) >= fresh and feed is not None and not self._time_left(claim, feed):
                self.counts["expired"] += 1
                log.info("claim waited too long for a slot; left to its lease", extra={"feed": feed.name})
                continue
            self._start_one(feed, claim)

    def _time_left(self, claim: Claim, feed: FeedConfig) -> bool:
        """Whether the claim's lease outlasts a poll started now (fetch timeout plus parsing and storing)."""
        timeout = feed.timeout or self.ctx.config.defaults.timeout
        waited = (claim.now() - claim.claimed_at).total_seconds()
        return waited + timeout * (1 + LEASE_MARGIN) < self.ctx.config.replicas.lease

    async def poll_named(self, feeds: Sequence[FeedConfig]) -> list[PollOutcome]:
        """Each of `feeds` once, due or not (`poll --once`): claimed as slots free up, so no lease runs
        out while a long list waits. A feed gone, or held by a running replica, is skipped."""
        waiting = list(feeds)
        done: dict[str, PollOutcome] = {}
        running: set[asyncio.Task[PollOutcome]] = set()
        lease = self.ctx.config.replicas.lease
        while waiting or running:
            free = self.free
            take, waiting = waiting[:free], waiting[free:]
            if take:
                names = [f.name for f in take]
                busy = set(self.inflight.values())
                got = await self.ctx.db(claims.claim_named, self.ctx.engine, self.replica, names, lease, busy)
                claimed = {c.state.name for c in got}
                done.update({n: PollOutcome(n, "skipped") for n in names if n not in claimed})
                running |= self._start(got)
            if running:
                finished, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in finished:
                    outcome = task.result()
                    done[outcome.feed] = outcome
        return [done[f.name] for f in feeds]

    def _start(self, got: Sequence[Claim]) -> set[asyncio.Task[PollOutcome]]:
        if got:
            self.on_claimed(len(got))
        known = self.feeds()
        return {self._start_one(known.get(claim.state.name), claim) for claim in got}

    def _start_one(self, feed: FeedConfig | None, claim: Claim) -> asyncio.Task[PollOutcome]:
        task = asyncio.create_task(self._poll(feed, claim))
        self.inflight[task] = claim.state.id
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.inflight.pop(task, None)
        if self.stopped:
            return
        self._start_ready()
        if self._more_due and self._wanted() > 0:
            refill = asyncio.create_task(self.fill())
            self._refills.add(refill)
            refill.add_done_callback(self._refills.discard)

    async def _poll(self, feed: FeedConfig | None, claim: Claim) -> PollOutcome:
        name = claim.state.name
        if feed is None:  # claimed by name, but not in this replica's config: another replica's feed
            log.warning(
                "claimed a feed this replica's config lacks; its lease will pass", extra={"feed": name}
            )
            outcome = PollOutcome(name, "skipped")
        else:
            try:
                outcome = await poll_feed(self.ctx, feed, claim)
            except asyncio.CancelledError:  # shutdown ran out of time; nothing of this poll was committed
                self.counts["cancelled"] += 1
                raise
            except Exception as error:  # a bug or a database error: the lease runs out, the feed comes back
                bug = not isinstance(error, OUTAGE)  # a traceback only for a bug
                log.error("poll crashed", exc_info=bug, extra={"feed": name, "error": type(error).__name__})
                outcome = PollOutcome(name, "failed", error=f"internal error: {type(error).__name__}")
                self.counts["crashed"] += 1
        self.counts[outcome.outcome] += 1
        return outcome

    async def stop(self, timeout: float) -> None:
        """Start nothing more; give in-flight polls `timeout` seconds, then cancel the rest."""
        self.stopped = True
        deadline = asyncio.get_running_loop().time() + timeout
        # A claim in flight commits in the database whatever happens to its caller: let it end, so what it
        # claimed is released below instead of staying leased to a stopped replica.
        try:
            async with asyncio.timeout(timeout), self._claiming:
                pass
        except TimeoutError:
            log.warning("a claim did not end before the stop; its feeds wait for their leases")
        waiting = [(c.state.id, c.token) for c in self.ready]
        self.ready.clear()
        if waiting:  # never started: due again now, for any replica, rather than when their leases end
            try:
                await self.ctx.db(claims.release, self.ctx.engine, waiting)
            except Exception as error:  # the database is away: their leases run out instead
                log.warning(
                    "claims not released", extra={"feeds": len(waiting), "error": type(error).__name__}
                )
        pending = set(self.inflight)
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=max(0.0, deadline - asyncio.get_running_loop().time()))
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
