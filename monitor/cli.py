"""The `monitor` command line. Options shared by several commands are decorators defined once here.

User mistakes (bad config, bad input, unreachable database) end in one clear
line on stderr and exit status 2, never a traceback.

Start-up is kept to click alone: every command imports what it needs inside its body (SQLAlchemy, pydantic,
httpx and feedparser cost ~0.5 s to import), so `--help` and read-only queries answer at once.
tests/test_cli_startup.py holds every command to this.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from monitor import events
from monitor.errors import ConfigError, InputError, MonitorError, StoreError
from monitor.redact import config_redactor

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from monitor.config import Config

F = TypeVar("F", bound=Callable[..., Any])

REPLICA_COLUMNS = ["replica", "pid", "heartbeat", "claims", "feeds_held", "chores", "started_at"]
# The JSON and CSV columns of each listing (README "Output columns"; tests/test_docs.py checks them).
EVENT_COLUMNS = [
    "event",
    "detected_at",
    "event_type",
    "actor",
    "modality",
    "confidence",
    "sources",
    "feed",
    "headline",
    "link",
    "evidence",
]
ITEM_COLUMNS = [
    "item",
    "first_seen_at",
    "published",
    "feed",
    "event_type",
    "actor",
    "modality",
    "confidence",
    "alert",
    "reason",
    "event",
    "backlog",
    "title",
    "link",
]
DELIVERY_COLUMNS = [
    "id",
    "webhook",
    "event_id",
    "notice_id",
    "status",
    "attempts",
    "last_status_code",
    "created_at",
    "next_attempt_at",
    "sent_at",
    "last_error",
    "headline",
]
DELIVERY_TABLE_COLUMNS = [
    "id",
    "webhook",
    "event_id",
    "status",
    "attempts",
    "code",
    "next_attempt",
    "last_error",
]


def fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handle_errors(fn: F) -> F:
    """Turn the monitor's own errors into a message and an exit status at the CLI edge."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ConfigError, StoreError) as error:
            fail(str(error), 2)
        except InputError as error:
            fail(str(error), 1)
        except MonitorError as error:
            fail(str(error), 1)
        except Exception as error:
            from sqlalchemy.exc import SQLAlchemyError  # imported here: the CLI starts without the database

            from monitor.db import store_error

            if not isinstance(error, SQLAlchemyError):
                raise
            fail(str(store_error(_database_url(), error)), 2)

    return wrapper  # type: ignore[return-value]


def _database_url() -> str:
    """The database of the command that failed: its config was loaded before any database work."""
    obj = click.get_current_context().find_root().ensure_object(dict)
    config = obj.get("config_sending") or obj.get("config")
    return config.database if config is not None else "(unknown)"


def json_option(fn: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print a JSON array (same as --format json)."
    )(fn)


def wide_option(fn: F) -> F:
    return click.option(
        "--wide", is_flag=True, help="Clip nothing to the terminal's width (tables only; pipe to less -S)."
    )(fn)


def format_option(fn: F) -> F:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "json", "csv"]),
        default="table",
        show_default=True,
        help="Output format.",
    )(fn)


def load(ctx: click.Context, *, sends: bool = False) -> Config:
    """The validated config (parsed once per command). Only commands that send (`sends`) need the
    webhooks' secrets: the others work while a webhook's variable is unset."""
    from monitor import config as config_mod

    obj = ctx.ensure_object(dict)
    key = "config_sending" if sends else "config"
    if key not in obj:
        path = config_mod.config_path(obj.get("config_arg"))
        obj[key] = config_mod.load_config(path, webhook_secrets=sends)
    config: Config = obj[key]
    return config


def engine_for(ctx: click.Context, *, note: bool = True, writes: bool = False) -> Engine:
    """The opened database; its connections are closed when the command ends. Nothing is created here: with
    no database yet the command sees an empty history and says why. A command that only reads (not `writes`)
    migrates nothing: it refuses a schema older or newer than this code's."""
    from monitor.db import open_existing

    config = ctx.ensure_object(dict).get("config_sending") or load(ctx)
    engine, why_empty = open_existing(config.database, writes=writes)
    if why_empty is not None and note:
        click.echo(f"note: {why_empty}", err=True)
    ctx.call_on_close(engine.dispose)
    return engine


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_arg",
    metavar="PATH",
    help="Config file (default: $MONITOR_CONFIG, else ./feeds.yaml).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default=None,
    help="Log line format (default: logging.format in the config, else text).",
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]),
    default=None,
    help="Log level (default: logging.level in the config, else INFO).",
)
@click.version_option(package_name="taliban-monitor")
@click.pass_context
def main(ctx: click.Context, config_arg: str | None, log_format: str | None, log_level: str | None) -> None:
    """Monitor news feeds for new recognitions of the Taliban government and Afghanistan sanctions changes."""
    ctx.ensure_object(dict).update(config_arg=config_arg, log_format=log_format, log_level=log_level)


def setup_logging(ctx: click.Context, config: Config, replica: str | None = None) -> None:
    from monitor import logs

    obj = ctx.ensure_object(dict)
    fmt, level = obj.get("log_format") or config.logging.format, obj.get("log_level") or config.logging.level
    logs.setup(fmt, level, replica, config_redactor(config))


@main.command("check-config")
@click.pass_context
@handle_errors
def check_config(ctx: click.Context) -> None:
    """Validate the config (every variable it uses must be set), the baseline and the database; print a
    summary."""
    from monitor.classify import load_baseline
    from monitor.db import probe

    config = load(ctx, sends=True)
    facts = len(load_baseline(config.baseline).facts)
    state = probe(config.database)
    click.echo(f"{config.summary()}\nbaseline facts: {facts}\ndatabase state: {state}")


@main.command()
@click.option(
    "--health-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve /healthz and /metrics on this port.",
)
@click.option(
    "--stop-timeout",
    type=click.FloatRange(0, 600),
    default=10.0,
    show_default=True,
    help="Seconds to let in-flight polls finish on SIGTERM before cancelling them.",
)
@click.option(
    "--replica-id",
    metavar="ID",
    default=None,
    help="This process's name among replicas sharing a PostgreSQL database (default: host:pid).",
)
@click.pass_context
@handle_errors
def run(ctx: click.Context, health_port: int | None, stop_timeout: float, replica_id: str | None) -> None:
    """Run the daemon: poll every enabled feed on its schedule and deliver alerts until stopped."""
    import asyncio

    from monitor import config as config_mod
    from monitor.daemon import run_daemon
    from monitor.instance import single_instance
    from monitor.replicas import default_id

    config = load(ctx, sends=True)
    if health_port is not None:
        config = config.model_copy(update={"health": config.health.model_copy(update={"port": health_port})})
    replica = default_id() if replica_id is None else replica_id  # "" is a mistake (an unset variable?)
    if not replica.strip() or len(replica) > 200:
        raise InputError("--replica-id: give 1 to 200 characters")
    setup_logging(ctx, config, replica)
    path = config_mod.config_path(ctx.obj.get("config_arg"))

    def reload() -> Any:
        return config_mod.load_config(path, webhook_secrets=True)

    with single_instance(config.database):
        asyncio.run(run_daemon(config, reload, stop_timeout, replica))


@main.command()
@click.option("--once", is_flag=True, required=True, help="Poll every enabled feed once, then exit.")
@click.option("--feed", "feed_names", multiple=True, metavar="NAME", help="Only this feed (repeatable).")
@click.option(
    "--drain-timeout",
    type=click.FloatRange(0, 86400),
    default=None,
    help="Seconds to spend delivering alerts before exiting (default: delivery.drain_timeout).",
)
@click.pass_context
@handle_errors
def poll(ctx: click.Context, once: bool, feed_names: tuple[str, ...], drain_timeout: float | None) -> None:
    """Run one polling cycle and deliver what it found (for cron and for trying a config)."""
    import asyncio

    config = load(ctx, sends=True)
    setup_logging(ctx, config)
    known = {f.name: f for f in config.feeds}
    unknown = [n for n in feed_names if n not in known]
    if unknown:
        raise InputError(f"--feed {unknown[0]}: no such feed in {config.path}")
    feeds = [known[n] for n in feed_names] if feed_names else config.enabled_feeds
    timeout = config.delivery.drain_timeout if drain_timeout is None else drain_timeout
    outcomes, drained = asyncio.run(_poll_once(config, feeds, timeout))
    for o in outcomes:
        detail = o.error or f"{o.new_items} new, {o.events} events"
        click.echo(f"{o.feed}: {o.outcome} ({o.status or '-'}) {detail}")
    click.echo(
        f"{len(outcomes)} feeds polled, {sum(o.new_items for o in outcomes)} new items, "
        f"{sum(o.events for o in outcomes)} events; deliveries: {drained.sent} sent, "
        f"{drained.retried} to retry, {drained.dead} dead, {drained.broken} to broken webhooks"
    )


async def _poll_once(config: Any, feeds: list[Any], drain_timeout: float) -> tuple[list[Any], Any]:
    from monitor import resources

    async with resources.open_resources(config) as rt:
        outcomes = await resources.poll_all(rt, feeds)
        drained = await resources.drain_outbox(rt, drain_timeout)
    return outcomes, drained


@main.command()
@format_option
@json_option
@wide_option
@click.pass_context
@handle_errors
def feeds(ctx: click.Context, fmt: str, as_json: bool, wide: bool) -> None:
    """One row per configured feed, polled or not: status (ok, never polled, gone, rate limited until T,
    failing since T, silent since T), items stored, errors, last and next poll, last error."""
    from monitor import feedlist, history, output

    rows = feedlist.listing(load(ctx).feeds, history.feeds(engine_for(ctx)), datetime.now(UTC))
    if as_json or fmt != "table":
        click.echo(output.render(rows, "json" if as_json else fmt, feedlist.COLUMNS))
        return
    table = feedlist.table_rows(rows)
    columns, optional = feedlist.TABLE_COLUMNS, feedlist.TABLE_OPTIONAL
    click.echo(output.as_table(table, columns, output.table_width(wide), optional))


@main.command("replicas")
@json_option
@click.pass_context
@handle_errors
def replicas_cmd(ctx: click.Context, as_json: bool) -> None:
    """Live `monitor run` replicas on this database: last heartbeat and what each holds."""
    from monitor import history, output, replicas

    rows = replicas.live(engine_for(ctx), load(ctx).replicas.heartbeat)
    if as_json:
        click.echo(output.as_json([{k: history._iso(v) for k, v in r.items()} for r in rows]))
        return
    shown = [
        {
            "replica": r["id"],
            "pid": r["pid"],
            "heartbeat": f"{r['heartbeat_age_seconds']}s ago",
            "claims": r["claims"],
            "feeds_held": len(r["feeds_held"]),  # type: ignore[arg-type]
            "chores": ", ".join(r["chores_held"]) or "-",  # type: ignore[arg-type]
            "started_at": history._iso(r["started_at"]),
        }
        for r in rows
    ]
    click.echo(output.as_table(shown, REPLICA_COLUMNS) if shown else "no live replicas")


@main.command()
# Bytes, decoded line by line: one undecodable line is reported like malformed JSON, not a traceback.
@click.argument("file", required=False, default="-", type=click.File("rb"))
@click.option(
    "--text", "text", default=None, help="Classify this one headline instead of reading JSON Lines."
)
@click.option(
    "--db", "use_db", is_flag=True, help="Judge novelty against the baseline grown from the database."
)
@click.pass_context
@handle_errors
def classify(ctx: click.Context, file: Any, text: str | None, use_db: bool) -> None:
    """Classify JSON Lines (id, title, summary[, published]) from FILE or stdin.

    Writes one JSON line per input line, in order; a malformed line is reported and skipped (exit 1).
    """
    import json

    from monitor.classify import classify as classify_one
    from monitor.classify import classify_jsonl

    baseline = _baseline(ctx, use_db)
    if text is not None:
        click.echo(json.dumps({"id": None, **classify_one(text, "", baseline).to_json()}))
        return
    sys.exit(classify_jsonl(file, baseline, sys.stdout, sys.stderr))


def _baseline(ctx: click.Context, use_db: bool) -> Any:
    from monitor import resources
    from monitor.classify import load_baseline

    config = load(ctx) if use_db else _config_or_default(ctx)
    if use_db:
        return resources.baseline_with_history(config, engine_for(ctx))
    return load_baseline(config.baseline if config else None)


def _config_or_default(ctx: click.Context) -> Any:
    """classify/explain work without a config file: the packaged seeds are the baseline then."""
    from monitor import config as config_mod

    path = config_mod.config_path(ctx.ensure_object(dict).get("config_arg"))
    if not path.exists() and ctx.obj.get("config_arg") is None:
        return None
    return load(ctx)


@main.command()
@click.argument("text")
@click.option("--summary", default="", help="The item's summary, if any.")
@click.pass_context
@handle_errors
def explain(ctx: click.Context, text: str, summary: str) -> None:
    """Explain the decision for one headline: verdict, evidence and the cues that decided."""
    from monitor.classify import classify as classify_one
    from monitor.classify import explain as explain_decision

    baseline = _baseline(ctx, False)
    click.echo(explain_decision(classify_one(text, summary, baseline), text, summary))


@main.command()
@click.pass_context
@handle_errors
def demo(ctx: click.Context) -> None:
    """See it work offline: a loopback feed server with a sample wire, a loopback chat receiver, the real
    pipeline into a throwaway database; prints the alerts as chat shows them, the history and one
    explained decision. Needs no config and no internet."""
    from monitor import logs
    from monitor.demo import run_demo

    obj = ctx.ensure_object(dict)
    logs.setup(obj.get("log_format") or "text", obj.get("log_level") or "WARNING")
    alerts = run_demo(click.echo)
    sys.exit(0 if alerts else 1)


@main.group()
def webhooks() -> None:
    """Configured webhook targets."""


@webhooks.command("test")
@click.argument("name")
@click.pass_context
@handle_errors
def webhooks_test(ctx: click.Context, name: str) -> None:
    """Send a sample alert to webhook NAME and print the outcome (status, time, the service's error text)."""
    import asyncio

    from monitor.webhook_test import send_sample

    config = load(ctx, sends=True)
    hook = next((h for h in config.webhooks if h.name == name), None)
    if hook is None:
        raise InputError(
            f"webhook {name!r}: not in {config.path} (known: "
            f"{', '.join(h.name for h in config.webhooks) or 'none'})"
        )
    ok, line = asyncio.run(send_sample(hook, config))
    click.echo(config_redactor(config)(line))
    sys.exit(0 if ok else 1)


@main.group(invoke_without_command=True)
@click.option(
    "--status", type=click.Choice(["pending", "sent", "dead"]), default=None, help="Only this status."
)
@format_option
@click.option(
    "--limit", type=click.IntRange(1, 1_000_000), default=100, show_default=True, help="The newest N rows."
)
@json_option
@wide_option
@click.pass_context
@handle_errors
def deliveries(
    ctx: click.Context, status: str | None, fmt: str, limit: int, as_json: bool, wide: bool
) -> None:
    """The outbox: one row per delivery (webhook, event, status, attempts, last error, next attempt)."""
    if ctx.invoked_subcommand is not None:
        return
    from monitor import history, output

    engine = engine_for(ctx)
    redact = config_redactor(load(ctx))  # rows stored before redaction existed may hold a secret
    rows = history.deliveries(engine, status, limit)
    shown = [{k: _shown(history._iso(v), redact) for k, v in r.items()} for r in rows]
    if as_json or fmt != "table":
        click.echo(output.render(shown, "json" if as_json else fmt, DELIVERY_COLUMNS))
    else:
        table = [
            {**r, "code": r["last_status_code"], "next_attempt": output.short_time(r["next_attempt_at"])}
            for r in shown
        ]
        click.echo(output.as_table(table, DELIVERY_TABLE_COLUMNS, output.table_width(wide)))
    for hook in history.broken_webhooks(engine):
        click.echo(
            f"webhook {hook['name']} is BROKEN since {history._iso(hook['broken_at'])}: "
            f"{redact(str(hook['broken_reason']))} (fix its URL in the config; its deliveries are kept)",
            err=True,
        )


def _shown(value: object, redact: Callable[[str], str]) -> object:
    return redact(value) if isinstance(value, str) else value


@deliveries.command("retry")
@click.argument("delivery_id", required=False, type=int)
@click.option("--dead", is_flag=True, help="Requeue every dead delivery.")
@click.pass_context
@handle_errors
def deliveries_retry(ctx: click.Context, delivery_id: int | None, dead: bool) -> None:
    """Requeue delivery ID (or every dead one with --dead); the next run or poll sends it."""
    if (delivery_id is None) == (not dead):
        raise InputError("give a delivery ID or --dead (not both)")
    from monitor import outbox

    load(ctx, sends=True)  # a requeued delivery goes to a webhook: its secrets must be set
    requeued = outbox.requeue(engine_for(ctx, note=False, writes=True), datetime.now(UTC), delivery_id)
    if delivery_id is not None and requeued.count == 0:
        raise InputError(f"delivery {delivery_id}: no such unsent delivery")
    peers = requeued.digest_peers
    also = f" (with the {peers} other alerts of its digest, which goes out whole)" if peers else ""
    click.echo(f"{requeued.count} deliveries requeued{also}")


@main.command("history")
@click.option(
    "--type",
    "event_type",
    type=click.Choice(list(events.NAMES)),
    help="Only this event type.",
)
@click.option("--actor", help="A code (KZ, UN, EU) or a name (Kazakhstan).")
@click.option("--since", help="From this date (YYYY-MM-DD) or relative time (7d, 12h, 2w).")
@click.option(
    "--until",
    help="Up to and including this date (YYYY-MM-DD); or before this timestamp or relative time (7d).",
)
@click.option("--feed", help="Only items or events first reported by this feed.")
@click.option(
    "--search",
    help="Words in titles or summaries, all required; each matches its forms (recognise finds recognition, "
    "ban finds banned); word* every word it begins (Kazakh* finds Kazakhstan, Kazakh does not); "
    '"an exact phrase"; a OR b.',
)
@click.option(
    "--items", "show_items", is_flag=True, help="List stored items with their decisions, not events."
)
@click.option(
    "--limit", type=click.IntRange(1, 100000), default=50, show_default=True, help="At most this many rows."
)
@click.option(
    "--show",
    "show_id",
    type=click.IntRange(1),
    default=None,
    metavar="ID",
    help="Show the sanctions-list change behind event ID (item ID with --items): the entry before and after.",
)
@format_option
@wide_option
@click.pass_context
@handle_errors
def history_cmd(
    ctx: click.Context,
    event_type: str | None,
    actor: str | None,
    since: str | None,
    until: str | None,
    feed: str | None,
    search: str | None,
    show_items: bool,
    limit: int,
    show_id: int | None,
    fmt: str,
    wide: bool,
) -> None:
    """Events (one row per development, newest first) or, with --items, every stored item."""
    from monitor import history, output

    if show_id is not None:
        _show_list_change(ctx, show_id, show_items, fmt)
        return
    now = datetime.now(UTC)
    code = None
    if actor:
        from monitor.classify import resolve_actor  # the classifier's tables cost 0.1 s to import

        code = resolve_actor(actor)
        if code is None:
            raise InputError(f"--actor {actor!r}: not a known state, code or body")
    filters = history.Filters(
        event_type=event_type,
        actor=code,
        feed=feed,
        search=search,
        limit=limit,
        since=history.parse_when(since, now) if since else None,
        until=history.parse_when(until, now, end=True) if until else None,
    )
    engine = engine_for(ctx)
    width = output.table_width(wide)
    if show_items:
        found = history.items(engine, filters)
        table = fmt == "table"
        click.echo(output.item_table(found, width) if table else output.render(found, fmt, ITEM_COLUMNS))
    else:
        events = history.events(engine, filters)
        table = fmt == "table"
        click.echo(output.event_table(events, width) if table else output.render(events, fmt, EVENT_COLUMNS))


def _show_list_change(ctx: click.Context, show_id: int, by_item: bool, fmt: str) -> None:
    from monitor import history, output

    engine = engine_for(ctx)
    if by_item:
        rows = history.list_changes(engine, item_id=show_id)
    else:
        rows = history.list_changes(engine, event_id=show_id)
    if not rows:
        what = "item" if by_item else "event"
        raise InputError(f"{what} {show_id}: no sanctions-list change (see `monitor history` for ids)")
    click.echo(output.as_json(rows) if fmt == "json" else output.list_change_detail(rows))


@main.command()
@format_option
@wide_option
@click.pass_context
@handle_errors
def stats(ctx: click.Context, fmt: str, wide: bool) -> None:
    """Counts per feed, event type, actor and day."""
    import json

    from monitor import history, output

    tables = history.stats(engine_for(ctx))
    if fmt == "json":
        click.echo(json.dumps(tables, indent=2, default=str))
        return
    for name, rows in tables.items():
        columns = list(rows[0].keys()) if rows else ["-"]
        click.echo(f"# {name}\n{output.render(rows, fmt, columns, output.table_width(wide))}\n")


@main.command()
@click.option(
    "--days",
    type=click.IntRange(1, 36500),
    default=None,
    help="Prune items first seen more than this many days ago (default: retention.items_days).",
)
@click.pass_context
@handle_errors
def prune(ctx: click.Context, days: int | None) -> None:
    """Remove the content of old non-event items (their keys stay, so they never come back as new).

    On SQLite the space is given back to the file system; on PostgreSQL (auto)vacuum makes it reusable
    for new rows (VACUUM FULL shrinks the files, locking the tables while it runs).
    """
    from monitor import store

    config = load(ctx)
    days = config.retention.items_days if days is None else days
    if not days:
        click.echo("retention disabled (retention.items_days is empty or 0): nothing pruned")
        return
    cutoff = store.stale_cutoff(datetime.now(UTC), days)
    engine = engine_for(ctx, note=False, writes=True)
    count = store.prune_items(engine, cutoff, prune_events=config.retention.prune_events)
    click.echo(f"{count} items pruned (first seen before {cutoff.date()})")
    returned = store.return_space(engine) if count else None
    if returned is not None:
        click.echo(f"{max(0, returned) / 1e6:.1f} MB returned to the file system")
