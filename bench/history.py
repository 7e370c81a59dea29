"""History at scale: every query shape of `history`, `stats`, `feeds` and `deliveries` on a small and a
large history, on SQLite and PostgreSQL; store cost per item at both sizes; prune's time and space.

Run: .venv/bin/python bench/history.py [--small 10000] [--large 1000000] [--db sqlite,postgres] [--check]

Histories are written through the product's own write path (store.sync_feeds, store.filter_new,
store.save_items with outbox.enqueue_event, as pipeline.ingest calls them), in polls of 50 items round-robin
over 100 feeds, 2,740 items a day (a million a year) up to a fixed moment: a bigger history is an older one.
Item text cycles through the entries of the real-feeds corpus; marker words give search a known frequency:
`bulletin` in one item in 4 (common), `quokka` in one in 5,000 (rare), `zyzzyva` in none (absent). One item in
200 alerts (events and their deliveries, then marked sent, one in 50 dead), one in 50 is topical and quiet.
PostgreSQL's histories are the SQLite ones' rows copied with COPY (identical rows; an hour of single-row
transactions on this machine becomes minutes); its store cost is measured through the write path.

Built histories are kept and reused: SQLite files under --cache (default /tmp/monitor-bench-history),
PostgreSQL databases `bench_history_[<tag>_]<items>_v<N>` on the server of --pg (created by this script;
--discard drops them at the end). Opening a kept history runs newer migrations first, as the product does.
What changes a history (the store cost, prune) runs on a copy: a copied file, or a database created from the
kept one as a template. A kept history's full-text index is merged as the daemon's hourly chore merges
it (chores.merge_search_index: SQLite's segments, PostgreSQL's GIN pending lists) before it is timed.

Printed per database: per query shape the rows it returned at each size (a page the small history cannot
fill costs less for that reason alone: such shapes ask for a --limit both sizes fill), p50 at both sizes,
p95 at the large one and the ratio large/small of the p50s and their difference (targets: ratio <= 1.5, or a
difference under 1 ms, the noise of timing sub-millisecond queries on a shared machine; and p95 <= 50 ms at
the large size), the store cost per item at both sizes and its ratio, and prune's time and the space it gave
back. `--check` exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitor import chores, history, models, outbox, store
from monitor.config import WebhookConfig
from monitor.db import open_database
from monitor.domain import Decision, Evidence, FeedItem
from monitor.events import EventType
from monitor.parse import link_key

REPO = Path(__file__).resolve().parents[1]
CORPUS = (REPO / ".." / "shared" / "corpora" / "real-feeds").resolve()
DATA_VERSION = 2  # bump when the generated rows change: kept histories are then rebuilt
FEEDS = 100
BATCH = 50
END = datetime(2026, 11, 1, tzinfo=UTC)
PER_DAY = 2740  # items first seen per day (a million a year): a bigger history is an older one
COMMON, RARE, ABSENT = "bulletin", "quokka", "zyzzyva"
ACTORS = ("KZ", "UZ", "TJ", "CN", "RU", "IR", "PK", "QA", "TR", "IN", "EU", "UN", "US", "GB", "DE")
EVENT_TYPES: tuple[EventType, ...] = ("sanctions_imposed", "sanctions_eased", "diplomatic_upgrade")
TARGET_RATIO = 1.5
TARGET_P95_MS = 50.0
# Below this difference of p50s the ratio is timer and scheduler noise, not growth: a shape is within
# target when large/small <= TARGET_RATIO or large - small <= NOISE_FLOOR_MS (both printed).
NOISE_FLOOR_MS = 1.0
HOOK = WebhookConfig.model_validate({"name": "ops", "kind": "generic", "url": "https://hooks.example/ops"})
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


# --- the generated history -------------------------------------------------------------------------


def corpus_texts() -> list[tuple[str, str]]:
    """(title, summary) of every entry in the real-feeds corpus."""
    from monitor.errors import ParseError
    from monitor.parse import parse

    texts = []
    for path in sorted(CORPUS.glob("*.xml")):
        try:
            parsed = parse(path.read_bytes(), {}, fetched_at=END)
        except ParseError:
            continue
        texts += [(i.title, i.summary[:600]) for i in parsed.items if i.title]
    return texts


def make_item(n: int, texts: list[tuple[str, str]], at: datetime) -> FeedItem:
    title, summary = texts[n % len(texts)]
    if n % 4 == 0:
        summary += f" ({COMMON})"
    if n % 5000 == 1:
        title += f" {RARE}"
    return FeedItem(
        key=f"guid:item-{n}",
        title=title,
        summary=summary,
        link=f"https://news.example/{n % FEEDS}/{n}",
        published=at - timedelta(minutes=n % 90),
        published_known=True,
    )


def decide(n: int, title: str) -> Decision:
    if n % 200 == 7:  # alerting: mostly a new event, sometimes another report of a recent one
        kind = EVENT_TYPES[(n // 200) % len(EVENT_TYPES)]
        actor = ACTORS[(n // 600) % len(ACTORS)]
        evidence = Evidence(sentence=title, rule=f"{kind}.bench")
        return Decision(True, kind, actor, "asserted", True, 0.9, evidence)
    if n % 50 == 3:
        actor = ACTORS[n % len(ACTORS)]
        return Decision(False, "sanctions_imposed", actor, "planned", True, 0.5, None, "speculative")
    return Decision(False, None, None, None, None, 0.0, None, "not_relevant")


def write_items(engine: Engine, first: int, count: int, texts: list[tuple[str, str]], total: int) -> None:
    """Items first..first+count-1, as polls of 50 items round-robin over the feeds: the pipeline's calls."""
    states = store.sync_feeds(
        engine, [(f"feed-{i:03d}", f"https://feeds.example/{i}.xml") for i in range(FEEDS)], END
    )
    feed_ids = [states[f"feed-{i:03d}"].id for i in range(FEEDS)]
    store.sync_webhooks(engine, [(HOOK.name, HOOK.kind, HOOK.url.get_secret_value())])
    for start in range(first, first + count, BATCH):
        numbers = range(start, min(start + BATCH, first + count))
        now = END - timedelta(days=(total - start) / PER_DAY)
        items = [make_item(n, texts, now) for n in numbers]
        feed_id = feed_ids[(start // BATCH) % FEEDS]
        lkeys = store.link_keys(items, {i.key: link_key(i) for i in items})
        fresh = store.filter_new(engine, feed_id, items, lkeys)
        batch = [(item, decide(n, item.title), False) for n, item in zip(numbers, items, strict=True)]

        def on_event(conn: Connection, event_id: int, decision: Decision, now: datetime = now) -> None:
            outbox.enqueue_event(conn, event_id, decision, [HOOK], now)

        assert len(fresh) == len(batch)
        store.save_items(engine, feed_id, batch, lkeys, now, on_event)


def settle_deliveries(engine: Engine) -> None:
    """Delivery outcomes as a year of sending leaves them: most sent, one in 50 dead, the newest pending."""
    deliveries = models.DELIVERIES
    with engine.begin() as conn:
        newest = conn.execute(sa.select(sa.func.max(deliveries.c.id))).scalar_one() or 0
        conn.execute(
            sa.update(deliveries).where(deliveries.c.id <= newest - 20).values(status="sent", attempts=1)
        )
        conn.execute(
            sa.update(deliveries)
            .where(deliveries.c.id % 50 == 0, deliveries.c.id <= newest - 20)
            .values(status="dead", attempts=8, last_error="HTTP 500")
        )


# --- kept histories --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    name: str  # sqlite | postgresql
    cache: Path
    pg_admin: str
    tag: str = ""  # keeps concurrent runs (tests) apart

    def url(self, size: int, suffix: str = "") -> str:
        if self.name == "sqlite":
            return f"sqlite:///{self.path(size, suffix)}"
        return self.pg_admin.rsplit("/", 1)[0] + "/" + self.database(size, suffix)

    def database(self, size: int, suffix: str = "") -> str:
        return f"bench_history_{self.tag + '_' if self.tag else ''}{size}_v{DATA_VERSION}{suffix}"

    def exists(self, size: int) -> bool:
        if self.name == "sqlite":
            return self.path(size).exists()
        with self._admin() as conn:
            query = sa.text("SELECT 1 FROM pg_database WHERE datname = :n")
            return conn.execute(query, {"n": self.database(size)}).first() is not None

    def path(self, size: int, suffix: str = "") -> Path:
        return self.cache / f"history-{self.tag + '-' if self.tag else ''}{size}-v{DATA_VERSION}{suffix}.db"

    def create(self, size: int, suffix: str = "") -> None:
        if self.name == "sqlite":
            self.cache.mkdir(parents=True, exist_ok=True)
            self.path(size, suffix).unlink(missing_ok=True)
            return
        with self._admin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {self.database(size, suffix)}")
            conn.exec_driver_sql(f"CREATE DATABASE {self.database(size, suffix)}")

    def copy(self, size: int) -> str:
        """A scratch copy of a kept history, for what changes it, on disk before it is timed: a copy's
        pages still waiting in the OS (900 MB of a million-item SQLite file) were otherwise written out by
        the first checkpoint of the store phase, and counted as store cost."""
        if self.name == "sqlite":
            scratch = self.path(size, "-scratch")
            shutil.copyfile(self.path(size), scratch)
            with scratch.open("rb") as file:
                os.fsync(file.fileno())
            for extra in ("-wal", "-shm"):
                Path(str(scratch) + extra).unlink(missing_ok=True)
            return self.url(size, "-scratch")
        with self._admin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {self.database(size, '_scratch')}")
            conn.exec_driver_sql(
                f"CREATE DATABASE {self.database(size, '_scratch')} TEMPLATE {self.database(size)}"
            )
            conn.exec_driver_sql("CHECKPOINT")
        return self.url(size, "_scratch")

    def drop_copy(self, size: int) -> None:
        if self.name == "sqlite":
            for extra in ("", "-wal", "-shm"):
                Path(str(self.path(size, "-scratch")) + extra).unlink(missing_ok=True)
            return
        with self._admin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {self.database(size, '_scratch')}")

    def discard(self, size: int) -> None:
        if self.name == "sqlite":
            for extra in ("", "-wal", "-shm"):
                Path(str(self.path(size)) + extra).unlink(missing_ok=True)
            return
        with self._admin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {self.database(size)}")

    def size_bytes(self, engine: Engine) -> int:
        with engine.connect() as conn:
            if self.name == "sqlite":
                pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
                return int(pages) * int(conn.exec_driver_sql("PRAGMA page_size").scalar_one())
            return int(conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one())

    def _admin(self) -> Any:
        engine = sa.create_engine(self.pg_admin, isolation_level="AUTOCOMMIT")
        return engine.connect()


def ensure_history(
    backend: Backend, size: int, texts: list[tuple[str, str]], copy_from: Backend | None
) -> Engine:
    """The kept history of `size` items, built now if missing: through the write path, or for PostgreSQL
    with `copy_from`, as a copy of the SQLite history's rows (itself built through the write path)."""
    if not backend.exists(size):
        print(
            f"[{backend.name}] building {size:,} items (kept for later runs)...", file=sys.stderr, flush=True
        )
        started = time.perf_counter()
        backend.create(size)
        engine = open_database(backend.url(size))
        if copy_from is not None:
            source = ensure_history(copy_from, size, texts, None)
            copy_rows(source, engine)
            source.dispose()
        else:
            write_items(engine, 0, size, texts, size)
            settle_deliveries(engine)
        analyse(engine)
        engine.dispose()
        print(f"[{backend.name}] built in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    engine = open_database(backend.url(size))
    # The daemon's hourly chore keeps SQLite's full-text index in a few segments and PostgreSQL's GIN pending
    # lists empty; a history written through the write path alone never ran it (21 segments at a million
    # items, 7 at 10k; a 444-page pending list). Timed right after a chore; until the next one an hour of
    # polls adds a segment or two (two or three batches of 50 at this rate), or ~114 pending items.
    chores.merge_search_index(engine, "bench")
    return engine


def copy_rows(source: Engine, target: Engine) -> None:
    """Every row of every table, SQLite to PostgreSQL with COPY: the same rows, minutes instead of an hour.
    Foreign keys are checked by neither side while loading (the source's rows already satisfy them)."""
    from monitor import models

    tables = [t for name, t in models.METADATA.tables.items() if name != "schema_version"]
    with source.connect() as src, target.connect() as dst:
        raw: Any = dst.connection.dbapi_connection
        with raw.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica; SET TIME ZONE 'UTC'")
            for table in tables:
                names = [c.name for c in table.c]
                cursor.execute(f"DELETE FROM {table.name}")
                quoted = ", ".join(f'"{n}"' for n in names)
                rows = src.exec_driver_sql(f"SELECT {quoted} FROM {table.name}")
                with cursor.copy(f"COPY {table.name} ({quoted}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                if "id" in names and isinstance(table.c.id.type, sa.Integer):
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT coalesce(max(id), 0) + 1 FROM {table.name}), false)"
                    )
        raw.commit()


def analyse(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


# --- query shapes ----------------------------------------------------------------------------------


def shapes() -> dict[str, Callable[[Engine], object]]:
    """Every filter the CLI offers, alone and in the common pairs, as the CLI calls them."""
    day = timedelta(days=1)
    since_1d, since_3d, until_2d = END - day, END - 3 * day, END - 2 * day
    ev, it = history.events, history.items
    f = history.Filters
    return {
        "history": lambda e: ev(e, f()),
        "history --type": lambda e: ev(e, f(event_type="sanctions_eased")),
        "history --actor": lambda e: ev(e, f(actor="KZ")),
        "history --type --actor": lambda e: ev(e, f(event_type="diplomatic_upgrade", actor="QA")),
        "history --since 1d": lambda e: ev(e, f(since=since_1d)),
        "history --until -2d": lambda e: ev(e, f(until=until_2d)),
        "history --feed": lambda e: ev(e, f(feed="feed-042")),
        "history --search rare": lambda e: ev(e, f(search=RARE)),
        "history --search common": lambda e: ev(e, f(search=COMMON)),
        "history --search absent": lambda e: ev(e, f(search=ABSENT)),
        "items": lambda e: it(e, f()),
        "items --type": lambda e: it(e, f(event_type="sanctions_imposed")),
        # Like with like (the rows column shows why): the small history holds 6 KZ items and 2 with the
        # rare word, so at --limit 50 the large one returns 50 rows against 6 or 2; at these limits both
        # sizes return the same rows' worth of work.
        "items --actor --limit 5": lambda e: it(e, f(actor="KZ", limit=5)),
        "items --since 1d": lambda e: it(e, f(since=since_1d)),
        "items --until -2d": lambda e: it(e, f(until=until_2d)),
        "items --since 3d --until -1d": lambda e: it(e, f(since=since_3d, until=since_1d)),
        "items --feed": lambda e: it(e, f(feed="feed-042")),
        "items --feed --since 1d": lambda e: it(e, f(feed="feed-042", since=since_1d)),
        "items --search rare --limit 2": lambda e: it(e, f(search=RARE, limit=2)),
        "items --search common": lambda e: it(e, f(search=COMMON)),
        "items --search absent": lambda e: it(e, f(search=ABSENT)),
        "items --search prefix --limit 2": lambda e: it(e, f(search="quok*", limit=2)),
        "items --feed --search common": lambda e: it(e, f(feed="feed-042", search=COMMON)),
        # No item has both the type and the common word (make_item/decide), so every match is checked. The
        # word is quoted (that exact word): its forms would also find a corpus entry that says "bulletins",
        # which falls on this type 31 times at a million items and never at 10k, so the two sizes would
        # return different pages.
        "items --type --search common": lambda e: it(
            e, f(event_type="sanctions_imposed", search=f'"{COMMON}"')
        ),
        # `the` is in two thirds of the type's items (corpus text): a word frequent among the filter's items.
        "items --type --search frequent": lambda e: it(e, f(event_type="sanctions_imposed", search="the")),
        "stats": history.stats,
        "feeds": history.feeds,
        # Like with like: the small history holds 49 deliveries, so --limit 100 would compare 49 rows with
        # 100; at --limit 40 both sizes return 40.
        "deliveries --limit 40": lambda e: history.deliveries(e, None, 40),
        "deliveries --status pending": lambda e: history.deliveries(e, "pending", 100),
        # Like with like: the small history holds no dead delivery (one in 50 of the settled ones, 29 at 10k)
        # and the large one 73, so at --limit 100 the large one returns 73 rows (a millisecond of making rows,
        # not of finding them). At --limit 1 both walk the same index range, as pending's 20 and 20 do.
        "deliveries --status dead --limit 1": lambda e: history.deliveries(e, "dead", 1),
    }


@dataclass
class Runs:
    """One history's timed runs of a shape: wall and this process's CPU seconds (on SQLite the query's
    own cost; on PostgreSQL the client's share, the server's CPU is not counted)."""

    wall: list[float]
    cpu: list[float]
    rows: int  # rows the query returned (the warm-up's; every run returns the same)


def timings(engines: list[Engine], query: Callable[[Engine], object], runs: int, budget: float) -> list[Runs]:
    """Per history, seconds per run after one warm-up each. The histories take turns run by run, so a
    change of load on the shared machine falls on both sizes alike; stops early once `budget` seconds of
    one history's runs are spent."""
    timed = [Runs([], [], _rows(query(engine))) for engine in engines]
    while len(timed[0].wall) < runs and (max(sum(t.wall) for t in timed) < budget or len(timed[0].wall) < 3):
        for engine, mine in zip(engines, timed, strict=True):
            wall, cpu = time.perf_counter(), time.process_time()
            query(engine)
            mine.wall.append(time.perf_counter() - wall)
            mine.cpu.append(time.process_time() - cpu)
    return timed


def _rows(result: object) -> int:
    """Rows a query returned: a list's length, or the sum of a dict of lists' (stats)."""
    if isinstance(result, dict):
        return sum(len(part) for part in result.values())
    return len(result) if isinstance(result, list) else 1


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


# --- store cost and prune --------------------------------------------------------------------------


def store_cost(backend: Backend, size: int, texts: list[tuple[str, str]], extra: int) -> tuple[float, float]:
    """Microseconds per item, wall and this process's CPU, to store `extra` more items (the pipeline's calls)
    into a copy."""
    engine = open_database(backend.copy(size))
    try:
        started, cpu = time.perf_counter(), time.process_time()
        write_items(engine, size, extra, texts, size)
        return (time.perf_counter() - started) / extra * 1e6, (time.process_time() - cpu) / extra * 1e6
    finally:
        engine.dispose()
        backend.drop_copy(size)


def prune_cost(backend: Backend, size: int) -> tuple[float, int, int, int]:
    """(seconds, items pruned, bytes before, bytes after) for pruning the oldest tenth of the items, as
    `monitor prune` does (blank them, then give the space back)."""
    engine = open_database(backend.copy(size))
    try:
        before = backend.size_bytes(engine)
        started = time.perf_counter()
        count = store.prune_items(engine, END - timedelta(days=size / PER_DAY * 0.9), prune_events=False)
        store.return_space(engine)  # as `monitor prune` does
        seconds = time.perf_counter() - started
        return seconds, count, before, backend.size_bytes(engine)
    finally:
        engine.dispose()
        backend.drop_copy(size)


# --- report ----------------------------------------------------------------------------------------


def bench_backend(backend: Backend, sizes: tuple[int, int], args: argparse.Namespace) -> list[str]:
    texts = corpus_texts()
    engines = [ensure_history(backend, size, texts, _source(backend)) for size in sizes]
    missed = []
    print(f"\n## {backend.name}: {sizes[0]:,} vs {sizes[1]:,} items\n")
    print(
        "| shape | rows | p50 small ms | p50 large ms | p95 large ms | large/small | large-small ms"
        " | CPU p50 ms | |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, query in shapes().items():
        small_runs, large_runs = timings(engines, query, args.runs, args.budget)
        small, large = statistics.median(small_runs.wall) * 1000, statistics.median(large_runs.wall) * 1000
        cpu = [statistics.median(r.cpu) * 1000 for r in (small_runs, large_runs)]
        slow = p95(large_runs.wall) * 1000
        ratio = large / max(small, 0.1)
        ok = (ratio <= TARGET_RATIO or large - small <= NOISE_FLOOR_MS) and slow <= TARGET_P95_MS
        if not ok:
            missed.append(f"{backend.name} {name}")
        print(
            f"| {name} | {small_runs.rows} / {large_runs.rows} | {small:.1f} | {large:.1f} | {slow:.1f} | "
            f"{ratio:.2f} | {large - small:.1f} | "
            f"{cpu[0]:.1f} / {cpu[1]:.1f} | {'ok' if ok else 'MISSED'} |",
            flush=True,
        )
    for engine in engines:
        engine.dispose()
    if args.queries_only:
        return missed
    costs = [store_cost(backend, size, texts, args.store_items) for size in sizes]
    (wall, cpu_small), (wall_large, cpu_large) = costs
    # SQLite writes in this process, so its CPU time is the store's; PostgreSQL's is mostly the server's.
    steadier = f"; CPU {cpu_small:.0f} -> {cpu_large:.0f} us/item, ratio {cpu_large / cpu_small:.2f}"
    print(
        f"\nstore: {wall:.0f} us/item at {sizes[0]:,}, {wall_large:.0f} us/item at {sizes[1]:,} "
        f"(ratio {wall_large / wall:.2f}{steadier if backend.name == 'sqlite' else ''}; "
        f"{args.store_items:,} items in polls of {BATCH})"
    )
    for size in sizes:
        seconds, count, before, after = prune_cost(backend, size)
        print(
            f"prune at {size:,}: {count:,} items (the oldest tenth) in {seconds:.2f} s; "
            f"database {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB "
            f"({(before - after) / 1e6:.1f} MB returned)"
        )
    return missed


def _source(backend: Backend) -> Backend | None:
    """Where a history is copied from: PostgreSQL's from SQLite's."""
    if backend.name != "postgresql":
        return None
    return Backend("sqlite", backend.cache, backend.pg_admin, backend.tag)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both (comma-separated)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/monitor-bench-history"))
    parser.add_argument(
        "--pg", default=PG_DEFAULT, help="PostgreSQL URL of a database to connect to as admin"
    )
    parser.add_argument("--runs", type=int, default=20, help="timed runs per shape")
    parser.add_argument("--budget", type=float, default=2.0, help="seconds per shape before it stops early")
    parser.add_argument("--store-items", type=int, default=5000, help="items stored to measure store cost")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--build-only", action="store_true", help="build (or keep) the histories and stop")
    parser.add_argument("--queries-only", action="store_true", help="time the query shapes, not store/prune")
    parser.add_argument("--tag", default="", help="a name part for the kept histories (keeps runs apart)")
    parser.add_argument("--discard", action="store_true", help="drop the histories this run used, at the end")
    args = parser.parse_args()
    missed: list[str] = []
    sizes = (args.small, args.large)
    backends = [
        Backend({"sqlite": "sqlite", "postgres": "postgresql"}[name.strip()], args.cache, args.pg, args.tag)
        for name in args.db.split(",")
    ]
    for backend in backends:
        if args.build_only:
            texts = corpus_texts()
            for size in sizes:
                ensure_history(backend, size, texts, _source(backend)).dispose()
            continue
        missed += bench_backend(backend, sizes, args)
    if args.discard:
        for backend in {*backends, *filter(None, map(_source, backends))}:
            for size in sizes:
                backend.discard(size)
    print(
        f"\ntargets: large/small <= {TARGET_RATIO} (or large - small <= {NOISE_FLOOR_MS:.0f} ms: noise), "
        f"p95 <= {TARGET_P95_MS:.0f} ms at {args.large:,} items"
    )
    print("all shapes within target" if not missed else f"missed: {', '.join(missed)}")
    if args.check and missed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
