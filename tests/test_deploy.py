"""deploy/: the systemd unit, the container image and the compose file, checked without systemd or Docker.

Neither exists on the test machine, so each artefact is parsed and then *executed as far as a host
can*: the unit's ExecStart/Environment= and the image's ENTRYPOINT/CMD/ENV run as real processes with
their paths mapped into a temporary folder (the image's COPY instructions are replayed there), the
HEALTHCHECK probe runs against a live daemon, a 503 and a closed port, and compose.yaml is checked
for the wiring a typo would break (database URL -> db service, credentials, healthy dependency).
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml
from click.testing import CliRunner
from httpserver import LoopbackServer, Reply, unused_port

from monitor.cli import main
from monitor.config import load_config

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
UNIT = DEPLOY / "systemd" / "taliban-monitor.service"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
CONTAINER_CONFIG = DEPLOY / "container.yaml"

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>loopback</title><link>http://127.0.0.1/</link>
<item><title>Weather report</title><link>http://127.0.0.1/a</link><guid>a</guid></item>
</channel></rss>
"""


# --- parsers ------------------------------------------------------------------------------------


def read_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """systemd's format: [Section], Key=value, repeated keys accumulate, '#'/';' comments, '\\' joins."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for line in _joined_lines(path.read_text(), comments=("#", ";")):
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not Key=value: {line!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def _joined_lines(text: str, comments: tuple[str, ...]) -> Iterator[str]:
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith(comments)):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield pending + line
        pending = ""


def read_dockerfile(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order; continuation lines joined, comments dropped."""
    instructions = []
    for line in _joined_lines(path.read_text(), comments=("#",)):
        word, _, rest = line.partition(" ")
        instructions.append((word.upper(), rest.strip()))
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[last_from:]


def exec_form(args: str) -> list[str]:
    """A JSON-array argument (ENTRYPOINT, CMD, HEALTHCHECK CMD); the shell form is not accepted."""
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(part, str) for part in value), args
    return value


def single(stage: list[tuple[str, str]], word: str) -> str:
    found = [args for w, args in stage if w == word]
    assert len(found) == 1, f"expected one {word} in the final stage, found {len(found)}"
    return found[0]


def healthcheck_command(stage: list[tuple[str, str]]) -> list[str]:
    _options, _, command = single(stage, "HEALTHCHECK").partition("CMD ")
    assert command, "HEALTHCHECK has no CMD"
    return exec_form(command)


def env_pairs(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for word, args in stage:
        if word == "ENV":
            env.update(part.partition("=")[::2] for part in shlex.split(args))
    return env


@dataclass
class Image:
    """The final stage's files: container path -> repository path, replayed from its COPY lines."""

    files: dict[PurePosixPath, Path] = field(default_factory=dict)
    workdir: PurePosixPath = field(default_factory=lambda: PurePosixPath("/"))

    @classmethod
    def from_stage(cls, stage: list[tuple[str, str]]) -> Image:
        image = cls()
        for word, args in stage:
            if word == "WORKDIR":
                image.workdir = image.workdir / args
            elif word == "COPY" and "--from" not in args:
                image.copy(shlex.split(args))
        return image

    def copy(self, parts: list[str]) -> None:
        *sources, dest = [part for part in parts if not part.startswith("--")]
        target = self.workdir / dest
        for source in sources:
            local = REPO / source
            assert local.exists(), f"the Dockerfile copies {source}, which is not in the repository"
            into_folder = dest.endswith("/") or len(sources) > 1 or local.is_dir()
            self.files[target / local.name if into_folder and local.is_file() else target] = local

    def lookup(self, path: str) -> Path:
        """The repository file that lands at `path` in the image."""
        wanted = PurePosixPath(path)
        for placed, local in self.files.items():
            if wanted == placed:
                return local
            if local.is_dir() and wanted.is_relative_to(placed):
                return local / wanted.relative_to(placed)
        raise AssertionError(f"{path} is not copied into the image")

    def materialise(self, root: Path) -> None:
        """Lay the copied files out under `root` as they sit in the image."""
        for placed, local in self.files.items():
            target = root / placed.relative_to("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            if local.is_dir():
                shutil.copytree(local, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(local, target)


def expand_compose(value: str, env: dict[str, str]) -> str:
    """Compose interpolation of ${NAME} and ${NAME:-default}, as `docker compose config` does it."""
    return re.sub(
        r"\$\{(\w+)(?::-([^}]*))?\}", lambda m: env.get(m[1]) or (m[2] if m[2] is not None else ""), value
    )


def seconds(duration: str) -> float:
    """systemd/compose durations: "20", "20s", "1m" (a bare number is seconds in both)."""
    match = re.fullmatch(r"(\d+)(s|m)?", duration)
    assert match, f"not a duration in seconds or minutes: {duration}"
    return int(match[1]) * (60 if match[2] == "m" else 1)


# --- running a daemon ---------------------------------------------------------------------------


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """The test's environment without MONITOR_* (which would change which config/database is used)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    return {**env, **extra}


def healthz_status(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


class Daemon:
    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, port: int) -> None:
        self.port = port
        self.log = cwd / "daemon.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)

    def wait_healthy(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"daemon exited early: {self.log.read_text()[-2000:]}"
            if healthz_status(self.port) == 200:
                return
            time.sleep(0.05)
        raise AssertionError(f"/healthz not 200 within {timeout} s: {self.log.read_text()[-2000:]}")

    def terminate(self) -> tuple[int, float]:
        """SIGTERM; the exit status and how long the process took to exit."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=12)
        return code, time.monotonic() - started


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for daemon in started:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait()


@pytest.fixture
def feed_server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        server.route("/rss", Reply(200, RSS, {"Content-Type": "application/rss+xml"}))
        yield server


def small_config(feed_url: str, base: dict[str, object] | None = None) -> str:
    """`base` (default: nothing) with one loopback feed instead of its own feeds."""
    return yaml.safe_dump(
        {**(base or {}), "defaults": {"jitter": 0}, "feeds": [{"name": "lo", "url": feed_url}]}
    )


# --- systemd ------------------------------------------------------------------------------------


def test_unit_sandboxes_the_daemon_and_keeps_its_state_and_secrets_apart() -> None:
    service = read_unit(UNIT)["Service"]

    def one(key: str) -> str:
        assert len(service.get(key, [])) == 1, f"expected exactly one {key}="
        return service[key][0]

    assert service.get("DynamicUser") == ["yes"] or service.get("User", ["root"])[0] not in ("root", "0")
    assert one("StateDirectory") == one("ConfigurationDirectory") == "taliban-monitor"
    assert one("EnvironmentFile") == "-/etc/taliban-monitor/env"  # '-': may be absent
    assert one("Restart") == "on-failure"
    assert one("KillSignal") == "SIGTERM"
    assert seconds(one("TimeoutStopSec")) >= 10  # the daemon's own bound, with room to spare
    assert service["ExecReload"][-1] == "/bin/kill -HUP $MAINPID"
    for key in (
        "NoNewPrivileges",
        "ProtectHome",
        "PrivateTmp",
        "PrivateDevices",
        "ProtectKernelTunables",
        "ProtectKernelModules",
        "ProtectKernelLogs",
        "ProtectControlGroups",
        "RestrictNamespaces",
        "LockPersonality",
        "MemoryDenyWriteExecute",
    ):
        assert one(key) == "yes", key
    assert one("ProtectSystem") == "strict"
    assert one("CapabilityBoundingSet") == ""  # no capabilities at all
    assert set(one("RestrictAddressFamilies").split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    assert "@system-service" in service["SystemCallFilter"]
    assert one("ReadWritePaths") == "/var/lib/taliban-monitor"  # the only writable path
    assert read_unit(UNIT)["Install"]["WantedBy"] == ["multi-user.target"]


@dataclass
class UnitProcess:
    """What systemd would run for a unit, with /etc, /var/lib and the venv's `monitor` mapped here."""

    args: list[str]  # after `monitor`
    env: dict[str, str]
    cwd: Path

    @classmethod
    def of(cls, unit: Path, tmp: Path) -> UnitProcess:
        service = read_unit(unit)["Service"]
        places = {"/etc/taliban-monitor": tmp / "etc", "/var/lib/taliban-monitor": tmp / "state"}

        def mapped(text: str) -> str:
            for real, local in places.items():
                text = text.replace(real, str(local))
            return text

        program, *args = shlex.split(service["ExecStart"][0])
        assert program == "/opt/taliban-monitor/.venv/bin/monitor"
        env = dict(pair.split("=", 1) for value in service["Environment"] for pair in shlex.split(value))
        env_file = Path(mapped(service["EnvironmentFile"][0].removeprefix("-")))
        if env_file.exists():  # systemd: the file's variables override Environment=
            lines = env_file.read_text().splitlines()
            env.update(line.partition("=")[::2] for line in lines if line and not line.startswith("#"))
        env = {k: mapped(v) for k, v in env.items()}
        return cls([mapped(arg) for arg in args], env, Path(mapped(service["WorkingDirectory"][0])))

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "monitor", *self.args]


def install_like_readme(tmp: Path, feed_url: str) -> None:
    """deploy/README.md's install steps: config + baseline in /etc/taliban-monitor, secrets file from
    env.example; systemd creates the state directory."""
    (tmp / "etc" / "seeds").mkdir(parents=True)
    (tmp / "state").mkdir()
    (tmp / "etc" / "feeds.yaml").write_text(small_config(feed_url))
    shutil.copy(REPO / "seeds" / "baseline.yaml", tmp / "etc" / "seeds" / "baseline.yaml")
    shutil.copy(DEPLOY / "systemd" / "env.example", tmp / "etc" / "env")


def test_unit_exec_start_serves_health_keeps_db_in_state_dir_and_stops_on_sigterm(
    tmp_path: Path, daemons: list[Daemon], feed_server: LoopbackServer
) -> None:
    install_like_readme(tmp_path, feed_server.url("/rss"))
    port = unused_port()
    unit = UnitProcess.of(UNIT, tmp_path)
    unit.args[unit.args.index("--health-port") + 1] = str(port)
    daemon = Daemon(unit.argv(), clean_env(unit.env), unit.cwd, port)
    daemons.append(daemon)
    daemon.wait_healthy()

    assert (tmp_path / "state" / "monitor.db").exists()  # Environment=MONITOR_DATABASE_URL took effect
    assert not (tmp_path / "etc" / "storage").exists()  # nothing written next to the config
    code, took = daemon.terminate()
    assert code == 0 and took < 10
    lines = daemon.log.read_text().splitlines()
    assert lines and all(json.loads(line)["msg"] for line in lines)  # --log-format json, for journald


# --- Dockerfile ---------------------------------------------------------------------------------


def test_image_runs_as_non_root_with_a_healthcheck_and_sigterm() -> None:
    stage = final_stage(read_dockerfile(DOCKERFILE))
    assert single(stage, "FROM").startswith("python:3.11-slim")
    user = single(stage, "USER").split(":")[0]
    assert user not in ("root", "0")
    assert single(stage, "STOPSIGNAL") == "SIGTERM"
    assert exec_form(single(stage, "ENTRYPOINT")) == ["monitor"]
    assert healthcheck_command(stage)[0] == "python"  # no curl in a slim image
    assert single(stage, "WORKDIR") == "/app"
    assert "/data" in exec_form(single(stage, "VOLUME"))


def test_every_copied_file_exists_and_lands_where_the_config_expects_it() -> None:
    stage = final_stage(read_dockerfile(DOCKERFILE))
    image = Image.from_stage(stage)  # asserts each COPY source exists
    config_path = env_pairs(stage)["MONITOR_CONFIG"]
    config_file = image.lookup(config_path)
    assert config_file == CONTAINER_CONFIG
    baseline = yaml.safe_load(config_file.read_text())["baseline"]
    assert image.lookup(posixpath.normpath(PurePosixPath(config_path).parent / baseline)).is_file()
    assert image.lookup(healthcheck_command(stage)[1]).is_file()
    for word, args in read_dockerfile(DOCKERFILE):  # the build stage's COPYs too
        if word == "COPY" and "--from" not in args:
            for source in [p for p in shlex.split(args) if not p.startswith("--")][:-1]:
                assert (REPO / source).exists(), source


def test_container_config_is_valid_and_listens_on_all_interfaces(tmp_path: Path) -> None:
    # `monitor check-config` in-process (the daemon tests cover `python -m monitor` itself).
    database = f"sqlite:///{tmp_path / 'monitor.db'}"
    result = CliRunner().invoke(
        main, ["--config", str(CONTAINER_CONFIG), "check-config"], env={"MONITOR_DATABASE_URL": database}
    )
    assert result.exit_code == 0, result.output

    config = load_config(CONTAINER_CONFIG, environ={})
    assert (config.health.host, config.health.port) == ("0.0.0.0", 8080)
    assert config.database == "sqlite:////data/monitor.db"  # in the image's VOLUME
    assert config.logging.format == "json"
    assert config.baseline == REPO / "seeds" / "baseline.yaml"


def test_container_config_watches_the_same_feeds_as_feeds_yaml() -> None:
    ours = load_config(CONTAINER_CONFIG, environ={})
    default = load_config(REPO / "feeds.yaml", environ={})
    assert ours.feeds == default.feeds, "deploy/container.yaml's feeds differ from feeds.yaml: copy them"
    assert ours.defaults == default.defaults


def test_ports_agree_between_config_image_healthcheck_and_compose() -> None:
    stage = final_stage(read_dockerfile(DOCKERFILE))
    probe_port = urlsplit(healthcheck_command(stage)[2]).port
    monitor = yaml.safe_load(COMPOSE.read_text())["services"]["monitor"]
    published = {int(str(spec).rsplit(":", 1)[1]) for spec in monitor["ports"]}
    config_port = load_config(CONTAINER_CONFIG, environ={}).health.port
    assert {probe_port, int(single(stage, "EXPOSE"))} | published == {config_port}


def run_probe(command: list[str], image: Image, port: int) -> int:
    """The HEALTHCHECK command on the host: its script from the repo, its URL on `port`."""
    argv = [sys.executable, str(image.lookup(command[1])), command[2].replace(":8080/", f":{port}/")]
    return subprocess.run(argv, capture_output=True, timeout=10, check=False).returncode


def image_process(tmp: Path, feed_url: str, port: int) -> tuple[list[str], dict[str, str], Path, Image]:
    """ENTRYPOINT + CMD with the image's files laid out under `tmp` and its ENV, feeds and port swapped."""
    stage = final_stage(read_dockerfile(DOCKERFILE))
    image = Image.from_stage(stage)
    image.materialise(tmp)
    env = {k: v.replace("/app/", f"{tmp}/app/") for k, v in env_pairs(stage).items() if k != "PATH"}
    config = Path(env["MONITOR_CONFIG"])
    shipped = yaml.safe_load(config.read_text())
    config.write_text(small_config(feed_url, {**shipped, "health": {**shipped["health"], "port": port}}))
    env["MONITOR_DATABASE_URL"] = f"sqlite:///{tmp / 'data' / 'monitor.db'}"  # /data is a volume
    entrypoint = exec_form(single(stage, "ENTRYPOINT")) + exec_form(single(stage, "CMD"))
    assert entrypoint[0] == "monitor"
    argv = [sys.executable, "-m", "monitor", *entrypoint[1:]]
    workdir = tmp / image.workdir.relative_to("/")
    return argv, clean_env(env), workdir, image


def test_healthcheck_passes_on_the_running_image_command_and_fails_once_stopped(
    tmp_path: Path, daemons: list[Daemon], feed_server: LoopbackServer
) -> None:
    port = unused_port()
    argv, env, workdir, image = image_process(tmp_path, feed_server.url("/rss"), port)
    daemon = Daemon(argv, env, workdir, port)
    daemons.append(daemon)
    daemon.wait_healthy()
    command = healthcheck_command(final_stage(read_dockerfile(DOCKERFILE)))

    assert run_probe(command, image, port) == 0
    code, took = daemon.terminate()  # STOPSIGNAL SIGTERM
    assert code == 0 and took < 10
    assert run_probe(command, image, port) != 0  # nothing listening


def test_healthcheck_fails_when_the_daemon_reports_unhealthy() -> None:
    stage = final_stage(read_dockerfile(DOCKERFILE))
    command, image = healthcheck_command(stage), Image.from_stage(stage)
    with LoopbackServer() as server:
        server.route("/healthz", Reply(503, b'{"status": "unhealthy"}\n'))
        assert run_probe(command, image, server.port) != 0
        assert [request.path for request in server.requests] == ["/healthz"]


# --- compose ------------------------------------------------------------------------------------


def test_compose_wires_the_monitor_to_a_healthy_postgres() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    db, monitor = compose["services"]["db"], compose["services"]["monitor"]
    assert db["image"] == "postgres:16"
    assert "pg_isready" in db["healthcheck"]["test"]
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]  # a named volume, kept across `down`/`up`

    url = urlsplit(expand_compose(monitor["environment"]["MONITOR_DATABASE_URL"], {}))
    db_env = {k: expand_compose(str(v), {}) for k, v in db["environment"].items()}
    assert url.scheme == "postgresql" and url.hostname == "db" and url.port == 5432
    assert (url.username, url.password, url.path) == (
        db_env["POSTGRES_USER"],
        db_env["POSTGRES_PASSWORD"],
        "/" + db_env["POSTGRES_DB"],
    )
    assert monitor["depends_on"]["db"]["condition"] == "service_healthy"
    assert monitor["restart"] == "unless-stopped"
    assert seconds(monitor["stop_grace_period"]) >= 10
    assert all(entry.get("required") is False for entry in monitor["env_file"])  # .env is optional


def test_compose_builds_the_image_from_the_repository_root() -> None:
    build = yaml.safe_load(COMPOSE.read_text())["services"]["monitor"]["build"]
    context = (COMPOSE.parent / build["context"]).resolve()
    assert context == REPO
    assert (context / build["dockerfile"]).resolve() == DOCKERFILE


def test_compose_password_override_reaches_both_services() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    env = {"POSTGRES_PASSWORD": "s3cretPw"}
    url = expand_compose(compose["services"]["monitor"]["environment"]["MONITOR_DATABASE_URL"], env)
    db_password = expand_compose(compose["services"]["db"]["environment"]["POSTGRES_PASSWORD"], env)
    assert urlsplit(url).password == db_password == "s3cretPw"
