"""Configuration: feeds.yaml plus the environment, validated once at start-up.

This is the only module that reads ``os.environ``. Everything else receives a
frozen `Config` (or one of its parts) and never looks anything up itself.

`load_config` turns every problem into one `ConfigError` that names the file,
the key path (``feeds[3].url``), the line and the reason. Secret values
(webhook URLs and signing secrets) never reach a message: pydantic is asked
for errors without their inputs, and our own validators never echo a URL.
"""

from __future__ import annotations

import base64
import difflib
import math
import os
import re
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from monitor.errors import ConfigError
from monitor.events import EventType
from monitor.notify.names import Kind as WebhookKind
from monitor.notify.sign import MIN_KEY_BYTES, PREFIX, validate_secret

__all__ = [
    "Config",
    "Defaults",
    "Delivery",
    "FeedConfig",
    "Health",
    "ListSettings",
    "LoggingConfig",
    "Retention",
    "WebhookConfig",
    "WebhookFilter",
    "WebhookKind",
    "config_path",
    "env_flag",
    "env_value",
    "format_duration",
    "load_config",
    "parse_duration",
    "parse_size",
    "redact_database_url",
]

CONFIG_ENV = "MONITOR_CONFIG"
DATABASE_ENV = "MONITOR_DATABASE_URL"
DEFAULT_CONFIG_FILE = "feeds.yaml"
DEFAULT_DATABASE = "sqlite:///storage/monitor.db"
DEFAULT_INTERVAL = 600.0
# The project has no public home yet: deployments should name a contact in defaults.user_agent.
DEFAULT_USER_AGENT = "taliban-monitor/0.1 (feed monitor; RSS/Atom poller)"
MIB = 1024 * 1024

# --- scalar parsers -----------------------------------------------------------------------------

_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>ms|s|m|h|d)?")
_SIZE_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30}
_SIZE = re.compile(r"(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[A-Za-z]*)")


def _shown(value: str) -> str:
    # Only short, non-secret scalars are echoed; a long value is cut so that a
    # misplaced secret cannot be shown whole.
    return repr(value if len(value) <= 24 else value[:12] + "...")


def parse_duration(value: object) -> float:
    """Seconds from a number (``30``, ``2.5``) or a string ``500ms``, ``30s``, ``5m``, ``2h``, ``1d``."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("expected a duration: a number of seconds or a string such as 30s, 5m, 2h")
    if isinstance(value, str):
        match = _DURATION.fullmatch(value.strip())
        if match is None:
            raise ValueError(f"{_shown(value)} is not a duration; use seconds or ms, s, m, h, d (30s, 5m)")
        return float(match["number"]) * _DURATION_UNITS[match["unit"] or "s"]
    if not math.isfinite(value):
        raise ValueError("a duration must be a finite number of seconds")
    return float(value)


def parse_size(value: object) -> int:
    """Bytes from an integer or a string ``512KB``, ``15MB`` (10**6), ``15MiB`` (2**20)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("expected a size: a number of bytes or a string such as 512KB, 15MiB")
    if isinstance(value, int):
        return value
    match = _SIZE.fullmatch(value.strip())
    unit = match["unit"].lower() if match else ""
    if match is None or unit not in _SIZE_UNITS:
        raise ValueError(f"{_shown(value)} is not a size; use bytes or B, KB, MB, GB, KiB, MiB, GiB")
    size = float(match["number"]) * _SIZE_UNITS[unit]
    if size != int(size):
        raise ValueError(f"{_shown(value)} is not a whole number of bytes; give a size such as 512KB")
    return int(size)


def format_duration(seconds: float) -> str:
    """The shortest exact spelling of a duration: 600 -> ``10m``, 0.5 -> ``500ms``."""
    if seconds == 0:
        return "0s"
    for unit in ("d", "h", "m", "s"):
        count = seconds / _DURATION_UNITS[unit]
        if count >= 1 and count == int(count):
            return f"{int(count)}{unit}"
    return f"{round(seconds * 1000)}ms" if seconds < 1 else f"{seconds:g}s"


def _check_http_url(url: str) -> str:
    # The message never repeats the URL: feed URLs may carry tokens, webhook URLs are secrets.
    problem = "must be an absolute http:// or https:// URL"
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a malformed port
    except ValueError:
        raise ValueError(problem) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise ValueError(problem)
    return url


def _check_secret_url(url: SecretStr) -> SecretStr:
    _check_http_url(url.get_secret_value())
    return url


def _check_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError("a name uses only letters, digits, '_', '.' and '-' (no spaces)")
    return name


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


def _check_actor(code: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise ValueError("an actor is an ISO 3166-1 alpha-2 code, UN or EU")
    return code


def _check_whsec(secret: str) -> None:
    # A typo here would otherwise surface only at the first delivery; the signer's parser is the judge.
    try:
        validate_secret(secret)
    except ValueError as error:  # its reason never quotes the secret
        raise PydanticCustomError("config_key", str(error), {"key": "secret"}) from None


Duration = Annotated[float, BeforeValidator(parse_duration)]
Size = Annotated[int, BeforeValidator(parse_size)]
# Lengths match the database columns (feeds.name, feeds.url).
Name = Annotated[str, Field(max_length=200), AfterValidator(_check_name)]
HttpUrl = Annotated[str, Field(max_length=2000), AfterValidator(_check_http_url)]
SecretHttpUrl = Annotated[SecretStr, AfterValidator(_check_secret_url)]
ActorCode = Annotated[str, BeforeValidator(_upper), AfterValidator(_check_actor)]
# rss: RSS/Atom/JSON Feed; the others are official sanctions lists (monitor/lists/).
FeedFormat = Literal["rss", "un-consolidated", "ofac-sdn", "uk-sanctions-list", "eu-fsf"]

# --- models -------------------------------------------------------------------------------------


class _Model(BaseModel):
    # Empty-list defaults are written `[]` (pydantic copies a default per instance): `default_factory=list`
    # makes pydantic read the signature of `list`, which compiles the tokenizer's regexes, 4 ms of start-up.
    # hide_input_in_errors: even a ValidationError raised outside load_config
    # (a model built in code) must not print a secret it was given.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class Defaults(_Model):
    """Polling settings every feed inherits."""

    interval: Duration = Field(default=DEFAULT_INTERVAL, ge=1)
    jitter: Duration = Field(default=30.0, ge=0)
    connect_timeout: Duration = Field(default=10.0, gt=0)
    read_timeout: Duration = Field(default=20.0, gt=0)
    timeout: Duration = Field(default=30.0, gt=0)  # total, per poll
    user_agent: str = Field(default=DEFAULT_USER_AGENT, min_length=1)
    max_body_size: Size = Field(default=15 * MIB, gt=0)
    max_item_age: Duration = Field(default=2 * 86400.0, ge=0)
    backoff_cap: Duration = Field(default=6 * 3600.0, gt=0)
    per_host: int = Field(default=2, ge=1)  # concurrent polls per host
    max_concurrency: int = Field(default=20, ge=1)


class FeedConfig(_Model):
    """One feed. `interval` is always set: a feed without one inherits `defaults.interval` at load."""

    name: Name
    url: HttpUrl
    interval: Duration = Field(default=DEFAULT_INTERVAL, ge=1)
    enabled: bool = True
    tags: list[str] = []
    format: FeedFormat = "rss"
    official: bool = False  # a publisher's own announcements or list: alerts say so
    # Per-feed overrides of the defaults: full sanctions lists are 20-30 MB and slow to generate.
    max_body_size: Size | None = Field(default=None, gt=0)
    timeout: Duration | None = Field(default=None, gt=0)

    @property
    def is_list(self) -> bool:
        return self.format != "rss"


class ListSettings(_Model):
    """Guards for official sanctions lists (feeds with a list `format`)."""

    # A fetch with fewer entries than this share of the last good one is a feed error.
    min_kept: float = Field(default=0.5, ge=0, le=1)
    # More alerting changes than max(breaker_min, breaker_share x selected entries) in one fetch are
    # held for a person to check (one notice) instead of alerting one by one.
    breaker_share: float = Field(default=0.1, gt=0, le=1)
    breaker_min: int = Field(default=5, ge=0)


class WebhookFilter(_Model):
    """Which alerts a webhook receives. None means no restriction."""

    event_types: list[EventType] | None = None
    actors: list[ActorCode] | None = None  # ISO codes, "UN", "EU"
    planned: bool = True  # include planned steps, not only completed ones
    min_confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    notices: bool = False  # also send feed-health notices


class WebhookConfig(_Model):
    """One alert target. `url` and `secret` are secrets: never log them."""

    name: Name
    kind: WebhookKind  # the registry's names (monitor/notify/names.py)
    url: SecretHttpUrl
    secret: SecretStr | None = None
    filter: WebhookFilter = Field(default_factory=WebhookFilter)
    enabled: bool = True

    @model_validator(mode="after")
    def _check_signing_secret(self) -> WebhookConfig:
        # The registry imports every renderer: loaded here, where a webhook is configured, and not by every
        # command that loads a config (a read-only query renders nothing).
        from monitor.notify.kinds import KINDS

        if KINDS[self.kind].signed and self.secret is not None:
            _check_whsec(self.secret.get_secret_value())
        return self


class Delivery(_Model):
    """Webhook delivery: retries, give-up age, storm digests."""

    backoff: list[Annotated[Duration, Field(ge=0)]] = Field(
        default_factory=lambda: [0.0, 5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0, 7200.0], min_length=1
    )  # the last step repeats
    max_age: Duration = Field(default=24 * 3600.0, gt=0)
    timeout: Duration = Field(default=10.0, gt=0)
    digest_after: int = Field(default=5, ge=1)  # more due alerts than this for one target -> one digest
    # The longest a target's Retry-After or empty rate-limit bucket pauses it (a hostile 10^9 s cannot).
    retry_after_max: Duration = Field(default=600.0, gt=0)
    drain_timeout: Duration = Field(default=30.0, ge=0)


class Retention(_Model):
    items_days: int | None = Field(default=90, ge=0)  # None or 0 keeps everything
    prune_events: bool = False


class Health(_Model):
    port: int | None = Field(default=None, ge=1, le=65535)  # None: no health/metrics endpoint
    host: str = "127.0.0.1"
    failing_after: int = Field(default=5, ge=1)  # consecutive failures before a "failing" notice
    silent_factor: float = Field(default=8.0, gt=1)  # "silent" after this many usual gaps


LEASE_MARGIN = 0.25  # of the longest poll timeout: time to parse and store what a poll fetched


class Replicas(_Model):
    """How `monitor run` processes share one database (README: Running several replicas)."""

    lease: Duration = Field(default=120.0, gt=0)  # a claimed feed is another replica's after this
    tick: Duration = Field(default=1.0, gt=0)  # how often a replica looks for due feeds
    heartbeat: Duration = Field(default=10.0, gt=0)  # how often a replica says it is alive


class LoggingConfig(_Model):
    format: Literal["text", "json"] = "text"
    level: Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR"], BeforeValidator(_upper)] = "INFO"
    summary: Duration = Field(default=300.0, ge=0)  # the daemon's "polls so far" line; 0: never


class Config(_Model):
    """The whole validated configuration. `path`, `database` and `baseline` are absolute after load;
    `baseline` None means the baseline shipped with the package (monitor.seeds)."""

    path: Path
    database: str = DEFAULT_DATABASE
    baseline: Path | None = None
    defaults: Defaults = Field(default_factory=Defaults)
    feeds: list[FeedConfig] = []
    webhooks: list[WebhookConfig] = []
    delivery: Delivery = Field(default_factory=Delivery)
    retention: Retention = Field(default_factory=Retention)
    health: Health = Field(default_factory=Health)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    replicas: Replicas = Field(default_factory=Replicas)
    lists: ListSettings = Field(default_factory=ListSettings)

    @model_validator(mode="before")
    @classmethod
    def _inherit_feed_intervals(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("feeds"), list):
            return data
        interval = _default_interval(data.get("defaults"))
        feeds = [
            {**feed, "interval": interval}
            if isinstance(feed, dict) and feed.get("interval") is None
            else feed
            for feed in data["feeds"]
        ]
        return {**data, "feeds": feeds}

    @model_validator(mode="after")
    def _check_lease(self) -> Config:
        # A poll may legally fetch for its feed's timeout, then parse and store what came: it must not lose
        # its lease meanwhile (another replica would poll the feed too, and its results be refused).
        longest, source = self.defaults.timeout, "defaults.timeout"
        for index, feed in enumerate(self.feeds):
            if feed.timeout is not None and feed.timeout > longest:
                longest, source = feed.timeout, f"feeds[{index}].timeout ({feed.name})"
        needed = longest * (1 + LEASE_MARGIN)
        if self.replicas.lease <= needed:
            reason = (
                f"must be longer than {source} ({format_duration(longest)}) plus a quarter for parsing and "
                f"storing, so over {format_duration(needed)}: a poll must finish within its lease"
            )
            raise PydanticCustomError("config_key", reason, {"key": "replicas.lease"})
        return self

    @field_validator("database")
    @classmethod
    def _check_database(cls, url: str) -> str:
        _check_backend(url)
        return url

    @field_validator("feeds", "webhooks")
    @classmethod
    def _check_unique_names(cls, items: Sequence[FeedConfig | WebhookConfig], info: ValidationInfo) -> Any:
        first: dict[str, int] = {}
        for index, item in enumerate(items):
            if item.name in first:
                reason = (
                    f"duplicate name {item.name!r} (already used by {info.field_name}[{first[item.name]}])"
                )
                raise PydanticCustomError("config_key", reason, {"key": f"[{index}].name"})
            first[item.name] = index
        return items

    @property
    def enabled_feeds(self) -> list[FeedConfig]:
        return [feed for feed in self.feeds if feed.enabled]

    @property
    def enabled_webhooks(self) -> list[WebhookConfig]:
        return [hook for hook in self.webhooks if hook.enabled]

    def summary(self) -> str:
        """A few lines for ``monitor check-config``. Shows no webhook URL or secret, no DB password."""
        return "\n".join(
            [
                f"config:    {self.path}",
                f"database:  {redact_database_url(self.database)}",
                f"baseline:  {self.baseline or 'the packaged seeds/baseline.yaml'}",
                _feeds_line(self),
                _webhooks_line(self.webhooks),
                _delivery_line(self.delivery),
                _retention_line(self.retention),
                _health_line(self.health),
                f"logging:   {self.logging.format}, {self.logging.level}",
                _lists_line(self),
            ]
        )


def _default_interval(raw: object) -> float:
    # A bad `defaults` is reported at its own key; the feeds then borrow the
    # built-in interval so the same mistake is not reported once per feed.
    if isinstance(raw, Defaults):
        return raw.interval
    try:
        return Defaults.model_validate(raw if raw is not None else {}).interval
    except ValidationError:
        return DEFAULT_INTERVAL


# --- summary lines ------------------------------------------------------------------------------


def _feeds_line(config: Config) -> str:
    d = config.defaults
    return (
        f"feeds:     {len(config.feeds)} ({len(config.enabled_feeds)} enabled); default interval "
        f"{format_duration(d.interval)}, jitter {format_duration(d.jitter)}, {d.per_host} per host, "
        f"{d.max_concurrency} at once, body cap {_format_size(d.max_body_size)}"
    )


def _lists_line(config: Config) -> str:
    lists = [feed for feed in config.enabled_feeds if feed.is_list]
    official = sum(1 for feed in config.enabled_feeds if feed.official or feed.is_list)
    s = config.lists
    return (
        f"official:  {official} official feeds, {len(lists)} sanctions lists "
        f"({', '.join(sorted({f.format for f in lists})) or 'none'}); a fetch under "
        f"{s.min_kept:.0%} of the last is an error; more than max({s.breaker_min}, "
        f"{s.breaker_share:.0%}) changes are held"
    )


def _format_size(size: int) -> str:
    for unit in ("GiB", "MiB", "KiB", "GB", "MB", "KB"):
        count = size / _SIZE_UNITS[unit.lower()]
        if count >= 1 and count == int(count):
            return f"{int(count)}{unit}"
    return f"{size} bytes"


def _webhooks_line(webhooks: list[WebhookConfig]) -> str:
    if not webhooks:
        return "webhooks:  none"
    described = []
    for hook in webhooks:
        notes = [hook.kind] + (["signed"] if hook.secret else []) + ([] if hook.enabled else ["disabled"])
        described.append(f"{hook.name} ({', '.join(notes)})")
    return "webhooks:  " + ", ".join(described)


def _delivery_line(delivery: Delivery) -> str:
    steps = ", ".join(format_duration(step) for step in delivery.backoff)
    return (
        f"delivery:  backoff {steps} (last repeats); give up after {format_duration(delivery.max_age)}; "
        f"digest above {delivery.digest_after} due alerts; timeout {format_duration(delivery.timeout)}"
    )


def _retention_line(retention: Retention) -> str:
    items = f"items kept {retention.items_days} days" if retention.items_days else "items kept forever"
    return f"retention: {items}; events {'pruned with items' if retention.prune_events else 'kept'}"


def _health_line(health: Health) -> str:
    where = f"http://{health.host}:{health.port}" if health.port else "endpoint off"
    return (
        f"health:    {where}; failing after {health.failing_after} failures; "
        f"silent after {health.silent_factor:g}x the usual gap"
    )


# --- environment --------------------------------------------------------------------------------


def env_value(name: str) -> str | None:
    """The variable `name`, or None when unset or empty. Other modules call this, never os.environ."""
    return os.environ.get(name) or None


def env_flag(name: str) -> bool:
    """True when the variable is set to 1, true, yes or on (any case)."""
    return (env_value(name) or "").strip().lower() in {"1", "true", "yes", "on"}


def config_path(cli_value: str | None) -> Path:
    """``--config PATH``, else ``$MONITOR_CONFIG``, else ``./feeds.yaml``."""
    return Path(cli_value or env_value(CONFIG_ENV) or DEFAULT_CONFIG_FILE)


# --- database URLs ------------------------------------------------------------------------------


def _parse_database_url(url: str) -> URL:
    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        # SQLAlchemy's own message repeats the URL, password included.
        raise ValueError("not a database URL (e.g. sqlite:///storage/monitor.db)") from None


def _check_backend(url: str) -> None:
    backend = _parse_database_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql", "postgres"):
        raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


def redact_database_url(url: str) -> str:
    """The URL with its password replaced by ``***``."""
    try:
        return str(make_url(url).render_as_string(hide_password=True))
    except (ArgumentError, ValueError):
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _absolute_sqlite(url: str, base: Path) -> str:
    """A relative SQLite file path made absolute against `base`; other URLs unchanged."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return url
    if database.startswith("file:") or Path(database).is_absolute():
        return url
    absolute = parsed.set(database=str((base / database).resolve()))
    return str(absolute.render_as_string(hide_password=False))


# --- loading ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Source:
    """The file being loaded and where each key path sits in it."""

    file: Path
    lines: Mapping[str, int]

    def line_of(self, key: str) -> int | None:
        # A missing key has no line of its own: use its nearest parent's.
        while key:
            if key in self.lines:
                return self.lines[key]
            key = re.sub(r"(\.[^.\[]*|\[\d+\])$", "", key)
        return None

    def error(self, key: str, reason: str) -> ConfigError:
        return ConfigError(str(self.file), key, reason, self.line_of(key))


def load_config(
    path: Path, environ: Mapping[str, str] | None = None, *, webhook_secrets: bool = True
) -> Config:
    """Read, parse, expand ``${VAR}``, validate. Any problem raises one `ConfigError`.

    `environ` defaults to the process environment. Relative SQLite paths and a
    relative `baseline` are resolved against the config file's folder; a
    relative SQLite path in ``$MONITOR_DATABASE_URL`` against the working
    directory. Nothing is created on disk.

    With `webhook_secrets` False (commands that send nothing), a webhook whose `url` or `secret` uses
    an unset variable is still checked for every other mistake, then left out of the result.
    """
    env = os.environ if environ is None else environ
    file = path.absolute()
    node, raw = _parse_yaml(file, _read_text(file))
    source = _Source(file, _line_map(node, file))
    if raw is None:
        raise source.error("", "the file is empty; expected a mapping of settings (feeds:, webhooks:, ...)")
    if not isinstance(raw, dict):
        raise source.error("", "the file must be a mapping of settings (feeds:, webhooks:, ...)")
    if "path" in raw:
        raise source.error("path", "unknown key (the config file's own path is not a setting)")
    deferred: set[int] = set()
    if not webhook_secrets:
        raw, deferred = _defer_unset_webhook_secrets(raw, env)
    _check_variables_set(raw, env, source)
    try:
        data = _expand_mapping(raw, "", env, source)
        config = Config.model_validate({**data, "path": file})
    except ValidationError as exc:
        raise _translate(exc, source) from None
    except RecursionError:
        raise source.error("", "the document nests too deeply (a recursive alias?)") from None
    if deferred:
        kept = [hook for index, hook in enumerate(config.webhooks) if index not in deferred]
        config = config.model_copy(update={"webhooks": kept})
    return _resolve_paths(config, env)


# Stand-ins that pass validation; the webhooks that needed them are dropped before anyone could use them.
_SECRET_STAND_INS = {
    "url": "https://unset.invalid/",
    "secret": PREFIX + base64.b64encode(bytes(MIN_KEY_BYTES)).decode(),
}


def _unset_variables(value: object, key: str, env: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """(key path, variable) for every ``${VAR}`` without a default whose variable is unset."""
    if isinstance(value, str):
        for match in _VARIABLE.finditer(value):
            if match["name"] and match["name"] not in env and match["default"] is None:
                yield key, match["name"]
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from _unset_variables(item, _join(key, name), env)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unset_variables(item, f"{key}[{index}]", env)


def _check_variables_set(raw: dict[Any, Any], env: Mapping[str, str], source: _Source) -> None:
    """Every unset variable in one error, so that a deployment fixes them all at once."""
    unset = sorted(_unset_variables(raw, "", env), key=lambda pair: source.line_of(pair[0]) or 0)
    if unset:
        key, name = unset[0]
        others = ", ".join(f"{other} ({where})" for where, other in unset[1:])
        also = f"; also unset: {others}" if others else ""
        raise source.error(key, f"environment variable {name} is not set (no default given){also}")


def _uses_unset_variable(text: str, env: Mapping[str, str]) -> bool:
    return any(
        match["name"] and match["name"] not in env and match["default"] is None
        for match in _VARIABLE.finditer(text)
    )


def _defer_unset_webhook_secrets(
    raw: dict[Any, Any], env: Mapping[str, str]
) -> tuple[dict[Any, Any], set[int]]:
    """`raw` with stand-ins for webhook URLs and secrets whose variables are unset, and those webhooks'
    indexes."""
    hooks = raw.get("webhooks")
    if not isinstance(hooks, list):
        return raw, set()
    deferred: set[int] = set()
    replaced: list[object] = []
    for index, hook in enumerate(hooks):
        if isinstance(hook, dict):
            stand_ins = {
                key: value
                for key, value in _SECRET_STAND_INS.items()
                if isinstance(hook.get(key), str) and _uses_unset_variable(hook[key], env)
            }
            if stand_ins:
                deferred.add(index)
                hook = {**hook, **stand_ins}
        replaced.append(hook)
    return {**raw, "webhooks": replaced}, deferred


def _read_text(file: Path) -> str:
    try:
        return file.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(str(file), "", "config file not found") from None
    except IsADirectoryError:
        raise ConfigError(str(file), "", "is a directory, not a config file") from None
    except PermissionError:
        raise ConfigError(str(file), "", "cannot read the config file: permission denied") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(str(file), "", f"not UTF-8 text (bad byte at offset {exc.start})") from None
    except OSError as exc:
        raise ConfigError(str(file), "", f"cannot read the config file: {exc.strerror}") from None


def _parse_yaml(file: Path, text: str) -> tuple[yaml.Node | None, object]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        kind = (
            "unsupported YAML" if isinstance(exc, yaml.constructor.ConstructorError) else "YAML syntax error"
        )
        detail = exc.problem or "invalid YAML"
        if exc.context:
            detail += f" ({exc.context})"
        # Our own message, not str(exc): PyYAML's includes a snippet of the line, which may hold a secret.
        line = mark.line + 1 if mark else None
        raise ConfigError(str(file), "", f"{kind}: {detail}", line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(str(file), "", f"YAML error: {exc}") from None
    finally:
        loader.dispose()


def _join(key: str, child: object) -> str:
    return f"{key}.{child}" if key else str(child)


def _line_map(root: yaml.Node | None, file: Path) -> dict[str, int]:
    """Key path (``feeds[3].url``) -> 1-based line. Also rejects a key given twice in one mapping."""
    lines: dict[str, int] = {}
    stack: list[tuple[yaml.Node, str]] = [(root, "")] if root is not None else []
    seen: set[int] = set()  # an alias repeats a node; walk it once
    while stack:
        node, key = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            stack.extend(_mapping_children(node, key, lines, file))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                lines[f"{key}[{index}]"] = item.start_mark.line + 1
                stack.append((item, f"{key}[{index}]"))
    return lines


def _mapping_children(
    node: yaml.MappingNode, key: str, lines: dict[str, int], file: Path
) -> list[tuple[yaml.Node, str]]:
    children: list[tuple[yaml.Node, str]] = []
    own: set[str] = set()
    for key_node, value_node in node.value:
        child = _join(key, key_node.value)
        line = key_node.start_mark.line + 1
        if child in own and key_node.value != "<<":
            # PyYAML would silently keep the last value; a repeated key is almost always a mistake.
            raise ConfigError(str(file), child, f"duplicate key (first given on line {lines[child]})", line)
        own.add(child)
        lines.setdefault(child, line)
        children.append((value_node, child))
    return children


# `$$` -> `$`; `${NAME}`; `${NAME:-default}`; a `${` that fits neither is an error.
_VARIABLE = re.compile(
    r"\$(?:(?P<dollar>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}|(?P<bad>\{))"
)


def _expand_tree(value: object, key: str, env: Mapping[str, str], source: _Source) -> object:
    if isinstance(value, str):
        return _expand(value, key, env, source)
    if isinstance(value, dict):
        return _expand_mapping(value, key, env, source)
    if isinstance(value, list):
        return [_expand_tree(item, f"{key}[{index}]", env, source) for index, item in enumerate(value)]
    return value


def _expand_mapping(
    mapping: dict[Any, Any], key: str, env: Mapping[str, str], source: _Source
) -> dict[Any, Any]:
    return {name: _expand_tree(item, _join(key, name), env, source) for name, item in mapping.items()}


def _expand(text: str, key: str, env: Mapping[str, str], source: _Source) -> str:
    def substitute(match: re.Match[str]) -> str:
        if match["dollar"]:
            return "$"
        if match["bad"]:
            raise source.error(key, "malformed variable: write ${NAME} or ${NAME:-default}, and $$ for a '$'")
        value = env.get(match["name"])
        if value:
            return value
        if match["default"] is not None:  # shell semantics: unset or empty takes the default
            return match["default"]
        if value is None:
            raise source.error(key, f"environment variable {match['name']} is not set (no default given)")
        return value

    return _VARIABLE.sub(substitute, text)


def _key_path(loc: tuple[int | str, ...]) -> str:
    key = ""
    for part in loc:
        key = f"{key}[{part}]" if isinstance(part, int) else _join(key, part)
    return key


def _describe(error: ErrorDetails) -> tuple[str, str]:
    """(key path, reason) for one pydantic error, built without its input value."""
    key = _key_path(error["loc"])
    context = error.get("ctx") or {}
    if error["type"] == "config_key":
        suffix = str(context["key"])
        key = key + suffix if suffix.startswith("[") else _join(key, suffix)
    if error["type"] == "extra_forbidden":
        return key, "unknown key" + _did_you_mean(error["loc"])
    if error["type"] == "missing":
        return key, "required key is missing"
    reason = error["msg"].removeprefix("Value error, ")
    return key, re.sub(r" or instance of \w+", "", reason)


def _model_in(annotation: object) -> type[BaseModel] | None:
    """The model a field holds: itself, or inside list[...] / ... | None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        if found := _model_in(argument):
            return found
    return None


def _did_you_mean(loc: tuple[int | str, ...]) -> str:
    """`(did you mean 'interval'?)` for an unknown key close to a known one at the same place."""
    model: type[BaseModel] | None = Config
    for part in loc[:-1]:
        if isinstance(part, str) and model is not None:
            field = model.model_fields.get(part)
            model = _model_in(field.annotation) if field else None
    if model is None:
        return ""
    known = [name for name in model.model_fields if name != "path"]
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else f" (known keys: {', '.join(known)})"


def _translate(exc: ValidationError, source: _Source) -> ConfigError:
    """The first problem in file order, with a count of the rest."""
    problems = [_describe(error) for error in exc.errors(include_input=False, include_url=False)]
    problems.sort(key=lambda problem: source.line_of(problem[0]) or math.inf)
    key, reason = problems[0]
    if len(problems) > 1:
        reason += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    return source.error(key, reason)


def _resolve_paths(config: Config, env: Mapping[str, str]) -> Config:
    folder = config.path.parent
    database = _absolute_sqlite(config.database, folder)
    override = env.get(DATABASE_ENV)
    if override:
        try:
            _check_backend(override)
        except ValueError as exc:
            raise ConfigError(str(config.path), DATABASE_ENV, str(exc)) from None
        database = _absolute_sqlite(override, Path.cwd())
    baseline = config.baseline
    if baseline is not None and not baseline.is_absolute():
        baseline = (folder / baseline).resolve()
    return config.model_copy(update={"database": database, "baseline": baseline})
