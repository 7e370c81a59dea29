"""Tests for monitor.config: feeds.yaml validated once at start-up.

Most cases are YAML files in tests/config_cases/, each carrying its own expectation
in header comments (feedparser style):

    # expect: <key path> | <substring of the reason> | line N     (or "# expect: ok")
    # env: NAME=value NAME2=value2       variables set for this case
    # secret: <text>                     must not appear in the error or its traceback
    # check: <key path> = <python literal>   (ok cases) a value the loaded config must hold
"""

from __future__ import annotations

import ast
import os
import re
import traceback
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from monitor.config import (
    Config,
    FeedConfig,
    WebhookConfig,
    config_path,
    env_flag,
    env_value,
    format_duration,
    load_config,
    parse_duration,
    parse_size,
    redact_database_url,
)
from monitor.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
CASES = sorted((Path(__file__).parent / "config_cases").glob("*.yaml"))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No MONITOR_* or CFGTEST_* variable leaks in from the developer's shell."""
    for name in list(os.environ):
        if name.startswith(("MONITOR_", "CFGTEST_")):
            monkeypatch.delenv(name)


def _headers(case: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in case.read_text(encoding="utf-8").splitlines():
        match = re.match(r"# (expect|env|secret|check): ?(.*)$", line)
        if match:
            found.setdefault(match[1], []).append(match[2])
    return found


def _value_at(config: Config, key: str) -> object:
    value: object = config
    for name, index in re.findall(r"(\w+)|\[(\d+)\]", key):
        value = getattr(value, name) if name else value[int(index)]  # type: ignore[index]
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def _everything_shown(error: BaseException) -> str:
    """What a log or a traceback could print: the message, the repr, and any chained exception."""
    chained = [error.__cause__, error.__context__]
    # A traceback would print a chained error in full: there must be none to print.
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    return "".join(traceback.format_exception_only(error)) + repr(error) + "".join(map(str, chained))


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_config_case(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    headers = _headers(case)
    for assignment in " ".join(headers.get("env", [])).split():
        name, _, value = assignment.partition("=")
        monkeypatch.setenv(name, value)
    (expect,) = headers["expect"]
    if expect.strip() == "ok":
        config = load_config(case)
        for check in headers.get("check", []):
            key, _, literal = check.partition(" = ")
            assert _value_at(config, key) == ast.literal_eval(literal), check
        return
    key, reason, *line = (part.strip() for part in expect.split("|"))
    with pytest.raises(ConfigError) as caught:
        load_config(case)
    error = caught.value
    assert (error.key, error.path) == (key, str(case))
    assert reason in error.reason
    assert error.line == (int(line[0].removeprefix("line ")) if line else None)
    shown = _everything_shown(error)
    for secret in headers.get("secret", []):
        assert secret not in shown


def test_every_case_states_an_expectation() -> None:
    assert len(CASES) > 30
    for case in CASES:
        (expect,) = _headers(case)["expect"]
        assert expect.strip() == "ok" or expect.count("|") >= 1, case.name


# --- the shipped feeds.yaml ---------------------------------------------------------------------


def test_root_feeds_yaml_loads_with_no_environment() -> None:
    config = load_config(REPO / "feeds.yaml")
    names = [feed.name for feed in config.feeds]
    assert len(names) >= 20
    assert len(set(names)) == len(names)
    assert all(feed.url.startswith("https://") for feed in config.feeds)
    # Every feed is on but the UK and EU lists, which wait for a test against a real file.
    assert {feed.name for feed in config.feeds if not feed.enabled} == {"uk-sanctions-list", "eu-fsf"}
    assert {feed.format for feed in config.enabled_feeds} == {"rss", "un-consolidated", "ofac-sdn"}
    assert config.webhooks == []  # the example is commented out
    assert config.database == f"sqlite:///{REPO / 'storage' / 'monitor.db'}"
    assert config.baseline is None  # the packaged baseline, wherever the file is copied


def test_root_feeds_yaml_covers_the_topic_searches_and_official_sources() -> None:
    urls = [feed.url for feed in load_config(REPO / "feeds.yaml").feeds]
    assert "https://news.google.com/rss/search?q=Taliban+recognition&hl=en-US&gl=US&ceid=US:en" in urls
    assert any("ofac.treasury.gov" in url for url in urls)
    assert any("consilium.europa.eu" in url for url in urls)


# --- reading the file ---------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found") as caught:
        load_config(tmp_path / "absent.yaml")
    assert caught.value.path == str(tmp_path / "absent.yaml")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


def test_not_utf8(tmp_path: Path) -> None:
    file = tmp_path / "feeds.yaml"
    file.write_bytes(b"feeds: []\ndatabase: \xff\xfe\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(file)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    file = tmp_path / "feeds.yaml"
    file.write_text("feeds: []\n")
    file.chmod(0)
    with pytest.raises(ConfigError, match="permission denied"):
        load_config(file)


def test_yaml_error_does_not_quote_the_offending_line(tmp_path: Path) -> None:
    file = tmp_path / "feeds.yaml"
    file.write_text("webhooks:\n  - url: https://hooks.example/T1/SECRETPART: [\n")
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    assert caught.value.line == 2
    assert "SECRETPART" not in str(caught.value)


def test_loading_creates_nothing_on_disk(tmp_path: Path) -> None:
    file = tmp_path / "feeds.yaml"
    file.write_text("database: sqlite:///data/deep/monitor.db\nbaseline: seeds/baseline.yaml\n")
    load_config(file)
    assert [path.name for path in tmp_path.iterdir()] == ["feeds.yaml"]


# --- paths and the database URL -----------------------------------------------------------------


def test_relative_sqlite_and_baseline_resolve_against_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    (folder / "feeds.yaml").write_text("database: sqlite:///storage/monitor.db\nbaseline: seeds/base.yaml\n")
    monkeypatch.chdir(tmp_path)
    config = load_config(Path("etc/feeds.yaml"))
    assert config.path == folder / "feeds.yaml"
    assert config.database == f"sqlite:///{folder / 'storage' / 'monitor.db'}"
    assert config.baseline == folder / "seeds" / "base.yaml"


@pytest.mark.parametrize(
    "url",
    ["sqlite:////var/lib/monitor/monitor.db", "sqlite://", "sqlite:///:memory:", "postgresql://db/monitor"],
)
def test_absolute_memory_and_server_urls_are_kept(tmp_path: Path, url: str) -> None:
    file = tmp_path / "feeds.yaml"
    file.write_text(f"database: '{url}'\nbaseline: /srv/baseline.yaml\n")
    config = load_config(file)
    assert (config.database, config.baseline) == (url, Path("/srv/baseline.yaml"))


def test_database_url_from_the_environment_overrides_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "feeds.yaml"
    file.write_text("database: sqlite:///storage/monitor.db\n")
    url = "postgresql+psycopg://monitor:hunter2@db.example.org:5432/monitor"
    monkeypatch.setenv("MONITOR_DATABASE_URL", url)
    config = load_config(file)
    assert config.database == url
    assert "hunter2" not in config.summary()
    assert "postgresql+psycopg://monitor:***@db.example.org:5432/monitor" in config.summary()


def test_relative_sqlite_in_the_environment_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    (folder / "feeds.yaml").write_text("feeds: []\n")
    monkeypatch.chdir(tmp_path)
    config = load_config(folder / "feeds.yaml", environ={"MONITOR_DATABASE_URL": "sqlite:///test.db"})
    assert config.database == f"sqlite:///{tmp_path / 'test.db'}"


def test_bad_database_url_in_the_environment_names_the_variable_not_the_password(tmp_path: Path) -> None:
    file = tmp_path / "feeds.yaml"
    file.write_text("feeds: []\n")
    with pytest.raises(ConfigError) as caught:
        load_config(file, environ={"MONITOR_DATABASE_URL": "postgresql://u:hunter2@host:notaport/db"})
    assert caught.value.key == "MONITOR_DATABASE_URL"
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("postgresql://monitor:hunter2@db:5432/monitor", "postgresql://monitor:***@db:5432/monitor"),
        ("postgresql://monitor@db/monitor", "postgresql://monitor@db/monitor"),
        ("sqlite:///storage/monitor.db", "sqlite:///storage/monitor.db"),
        ("nonsense://u:hunter2@h:bad/x", "nonsense://u:***@h:bad/x"),
    ],
)
def test_redact_database_url(url: str, redacted: str) -> None:
    assert redact_database_url(url) == redacted


# --- variables ----------------------------------------------------------------------------------


def test_explicit_environ_is_used_instead_of_the_process_environment(tmp_path: Path) -> None:
    file = tmp_path / "feeds.yaml"
    file.write_text("feeds:\n  - name: a\n    url: https://example.org/${CFGTEST_PATH}.xml\n")
    config = load_config(file, environ={"CFGTEST_PATH": "rss"})
    assert config.feeds[0].url == "https://example.org/rss.xml"


def test_an_expanded_secret_is_not_shown_when_its_key_is_invalid(tmp_path: Path) -> None:
    file = tmp_path / "feeds.yaml"
    file.write_text(
        "webhooks:\n  - name: a\n    kind: generic\n    url: https://r.example/h\n    secret: ${S}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(file, environ={"S": "plain-Secret-9"})
    assert (caught.value.key, caught.value.line) == ("webhooks[0].secret", 5)
    assert "plain-Secret-9" not in _everything_shown(caught.value)


# --- validation details -------------------------------------------------------------------------


def test_a_bad_default_interval_is_reported_once_at_its_own_key(tmp_path: Path) -> None:
    file = tmp_path / "feeds.yaml"
    file.write_text("feeds:\n  - name: a\n    url: https://example.org/a.xml\ndefaults:\n  interval: never\n")
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    assert (caught.value.key, caught.value.line) == ("defaults.interval", 5)
    assert "more problem" not in caught.value.reason


def test_several_problems_report_the_first_and_count_the_rest(tmp_path: Path) -> None:
    file = tmp_path / "feeds.yaml"
    file.write_text("logging:\n  format: xml\nhealth:\n  port: 0\nretention:\n  items_days: -1\n")
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    assert (caught.value.key, caught.value.line) == ("logging.format", 2)
    assert caught.value.reason.endswith("(and 2 more problems)")


def test_models_built_in_code_are_validated_without_echoing_secrets() -> None:
    with pytest.raises(ValidationError) as caught:
        WebhookConfig(name="a", kind="slack", url=["https://hooks.example/T9/B9/leakme"])  # type: ignore[arg-type]
    assert "leakme" not in str(caught.value)
    feed = FeedConfig(name="a", url="https://example.org/a.xml")
    with pytest.raises(ValidationError, match="duplicate name"):
        Config(path=Path("/x/feeds.yaml"), feeds=[feed, feed])


def test_config_is_frozen() -> None:
    config = load_config(REPO / "feeds.yaml")
    with pytest.raises(ValidationError, match="frozen"):
        config.defaults.interval = 1


def test_summary_names_webhooks_by_name_and_kind_only(tmp_path: Path) -> None:
    file = tmp_path / "feeds.yaml"
    file.write_text(
        "feeds:\n  - name: a\n    url: https://example.org/a.xml\n    enabled: false\n"
        "  - name: b\n    url: https://example.org/b.xml\n"
        "webhooks:\n  - name: team\n    kind: slack\n    url: https://hooks.slack.com/services/T1/B2/zzsecret\n"
        "  - name: archive\n    kind: generic\n    url: https://r.example/h\n"
        "    secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"
    )
    summary = load_config(file).summary()
    assert "2 (1 enabled)" in summary
    assert "team (slack), archive (generic, signed)" in summary
    assert "zzsecret" not in summary
    assert "MfKQ9r8" not in summary
    assert str(file) in summary


# --- scalars and environment accessors ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(30, 30.0), (2.5, 2.5), ("45", 45.0), ("500ms", 0.5), ("30s", 30.0), ("5m", 300.0), ("2h", 7200.0),
     ("1d", 86400.0), (" 1.5 h ", 5400.0)],
)  # fmt: skip
def test_parse_duration(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["5 minutes", "m", "-5s", "1w", True, None, float("inf")])
def test_parse_duration_rejects(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "size"),
    [(1024, 1024), ("512KB", 512_000), ("512KiB", 524_288), ("15MB", 15_000_000), ("15MiB", 15_728_640),
     ("1GiB", 2**30), ("100b", 100), ("1.5MiB", 1_572_864)],
)  # fmt: skip
def test_parse_size(text: object, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["15 megs", "MB", "1.5", 2.5, False])
def test_parse_size_rejects(text: object) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_size(text)


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (0.5, "500ms"), (90, "90s"), (600, "10m"),
                                               (7200, "2h"), (172800, "2d"), (1.5, "1.5s")])  # fmt: skip
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_config_path_prefers_cli_then_environment_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert config_path(None) == Path("feeds.yaml")
    monkeypatch.setenv("MONITOR_CONFIG", "/etc/monitor/feeds.yaml")
    assert config_path(None) == Path("/etc/monitor/feeds.yaml")
    assert config_path("other.yaml") == Path("other.yaml")


def test_env_accessors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_FLAG_ON", "Yes")
    monkeypatch.setenv("MONITOR_FLAG_OFF", "0")
    monkeypatch.setenv("MONITOR_EMPTY", "")
    assert env_flag("MONITOR_FLAG_ON") and not env_flag("MONITOR_FLAG_OFF") and not env_flag("MONITOR_UNSET")
    assert env_value("MONITOR_EMPTY") is None
    assert env_value("MONITOR_FLAG_OFF") == "0"
