"""The Docker files cannot be built here (no engine), so their required properties are checked as text."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import PurePosixPath

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.settings import Settings
from tests.ops.helpers import ROOT


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    """Return (INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    text = re.sub(r"\\\n", " ", text)
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, rest = line.partition(" ")
            pairs.append((instruction.upper(), rest.strip()))
    return pairs


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def bot_service(compose: dict) -> dict:
    assert "bot" in compose["services"], "docker-compose.yml needs a service named bot"
    return compose["services"]["bot"]


def _args(dockerfile: list[tuple[str, str]], instruction: str) -> list[str]:
    return [rest for ins, rest in dockerfile if ins == instruction]


def test_dockerfile_uses_slim_python_and_installs_the_project(dockerfile) -> None:
    assert _args(dockerfile, "FROM") == ["python:3.11-slim"]
    assert any(re.search(r"pip install [-\w ]*\.$", run) for run in _args(dockerfile, "RUN"))


def test_dockerfile_runs_as_a_non_root_user(dockerfile) -> None:
    users = _args(dockerfile, "USER")
    assert users, "no USER instruction: the bot would run as root"
    assert users[-1] not in ("root", "0", "0:0")
    # The user must exist: created by a RUN before USER.
    assert any("useradd" in run and users[-1] in run for run in _args(dockerfile, "RUN"))
    # And nothing runs after USER that needs root.
    instructions = [ins for ins, _ in dockerfile]
    assert "RUN" not in instructions[instructions.index("USER") :]


def test_dockerfile_healthcheck_asks_healthz_without_curl(dockerfile) -> None:
    (check,) = _args(dockerfile, "HEALTHCHECK")
    assert "/healthz" in check and "urllib" in check and "curl" not in check
    assert _args(dockerfile, "STOPSIGNAL") == ["SIGTERM"]
    assert _args(dockerfile, "CMD") == ['["optout-bot", "run"]']


def test_database_lives_on_the_volume_owned_by_the_bot_user(dockerfile, compose, bot_service) -> None:
    env = " ".join(_args(dockerfile, "ENV"))
    match = re.search(r"DATABASE_URL=sqlite:///(\S+)", env)
    assert match, "the image must set DATABASE_URL"
    db_dir = str(PurePosixPath(match.group(1)).parent)
    assert db_dir == "/data"
    user = _args(dockerfile, "USER")[-1]
    assert any(f"chown {user}:{user} {db_dir}" in run for run in _args(dockerfile, "RUN"))

    named = compose.get("volumes") or {}
    mounts = [v.split(":") for v in bot_service["volumes"]]
    assert any(src in named and dst == db_dir for src, dst, *_ in mounts), "no named volume at the DB's folder"
    # Compose pins the URL too, so a DATABASE_URL in .env cannot move the database off the volume.
    assert bot_service["environment"]["DATABASE_URL"] == match.group(0).split("=", 1)[1]


def test_compose_service_reads_env_and_restarts(bot_service) -> None:
    assert bot_service["env_file"] in (".env", [".env"])
    assert bot_service["restart"] == "unless-stopped"
    assert bot_service["stop_grace_period"] == "15s"
    assert bot_service["build"] == "."


def test_healthcheck_port_matches_the_published_port(dockerfile, bot_service) -> None:
    port = bot_service["environment"]["HEALTH_PORT"]
    assert any(p.endswith(f":{port}") for p in bot_service["ports"])
    assert f"HEALTH_PORT={port}" in " ".join(_args(dockerfile, "ENV"))


def test_every_setting_is_documented_in_env_example() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    for name in Settings.model_fields:
        var = name.upper()
        at = [i for i, line in enumerate(lines) if re.match(rf"#?\s*{var}=", line)]
        assert len(at) == 1, f"{var} is not in .env.example (or is there twice)"
        explanation = lines[at[0] - 1]
        assert explanation.startswith("# ") and not re.match(r"#\s*[A-Z_]+=", explanation), (
            f"{var} in .env.example needs a one-line explanation on the line above it"
        )


def test_env_example_holds_no_secret_values() -> None:
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith(("TELEGRAM_BOT_TOKEN=", "DISCORD_BOT_TOKEN=", "TELEGRAM_WEBHOOK_SECRET=")):
            assert line.endswith("="), line


def test_dockerignore_keeps_secrets_and_data_out_of_the_image() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".git", ".venv", "data", "*.db"} <= ignored


def test_dockerfile_copies_nothing_that_dockerignore_drops(dockerfile) -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    copied = [shlex.split(args)[0] for args in _args(dockerfile, "COPY")]
    assert copied and not [c for c in copied if c in ignored], "the Dockerfile copies an ignored path"


def test_the_ha_profile_runs_two_replicas_on_postgres_behind_nginx(compose: dict) -> None:
    services = compose["services"]
    assert "profiles" not in services["bot"], "the single-instance bot must stay the default"
    postgres, replicas, proxy = services["postgres"], services["bot-ha"], services["proxy"]
    assert all(s["profiles"] == ["ha"] for s in (postgres, replicas, proxy))

    mounts = [v.split(":") for v in postgres["volumes"]]
    assert any(src in compose["volumes"] and dst == "/var/lib/postgresql/data" for src, dst, *_ in mounts)
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    password = postgres["environment"]["POSTGRES_PASSWORD"]
    assert password.startswith("${POSTGRES_PASSWORD:?"), "the password comes from .env, never from this file"

    env = replicas["environment"]
    assert replicas["deploy"]["replicas"] == 2
    assert env["DATABASE_URL"] == (f"postgresql://{postgres['environment']['POSTGRES_USER']}:{password}"
                                   f"@postgres:5432/{postgres['environment']['POSTGRES_DB']}")
    assert replicas["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "ports" not in replicas  # two replicas cannot publish one host port
    assert replicas["stop_grace_period"] == "15s" and replicas["env_file"] in (".env", [".env"])

    conf_mount = next(v.split(":") for v in proxy["volumes"] if v.endswith("default.conf:ro"))
    conf = (ROOT / conf_mount[0]).read_text()
    assert f"server bot-ha:{env['TELEGRAM_WEBHOOK_PORT']}" in conf and "proxy_pass http://bots;" in conf
    assert "location /telegram-hook" in conf and "443 ssl" in conf
    assert proxy["depends_on"]["bot-ha"]["condition"] == "service_healthy"
    assert any(p.endswith(":443") for p in proxy["ports"])


def test_env_example_names_the_ha_password() -> None:
    assert re.search(r"^# POSTGRES_PASSWORD=$", (ROOT / ".env.example").read_text(), re.M)


def test_health_server_binds_all_addresses_only_inside_the_container(dockerfile, compose: dict) -> None:
    # Outside Docker the default is loopback (bot/settings.py); inside, Docker's port mapping needs 0.0.0.0.
    assert Settings.model_fields["health_host"].default == "127.0.0.1"
    assert "HEALTH_HOST=0.0.0.0" in " ".join(_args(dockerfile, "ENV"))
    for name in ("bot", "bot-ha"):
        assert compose["services"][name]["environment"]["HEALTH_HOST"] == "0.0.0.0"
    assert all(p.startswith("127.0.0.1:") for p in compose["services"]["bot"]["ports"])


def _locked() -> dict[str, tuple[str, list[str]]]:
    """requirements.lock as {name: (version, hashes)}."""
    text = (ROOT / "requirements.lock").read_text().replace("\\\n", " ")
    pins = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            spec, *options = line.split()
            name, _, version = spec.partition("==")
            pins[canonicalize_name(name)] = (version, [o for o in options if o.startswith("--hash=sha256:")])
    return pins


def test_the_image_installs_the_hashed_lock_and_nothing_else(dockerfile) -> None:
    runs = " && ".join(_args(dockerfile, "RUN"))
    assert "pip install --require-hashes --no-deps -r requirements.lock" in runs
    # The project itself adds no dependency of its own choosing, and needs no download to build.
    assert "pip install --no-deps --no-build-isolation ." in runs
    assert not re.search(r"pip install (?!--require-hashes|--no-deps)", runs), runs
    copies = [shlex.split(args)[0] for args in _args(dockerfile, "COPY")]
    assert copies.index("requirements.lock") < copies.index("bot")  # its layer survives code changes


def test_the_lock_pins_every_dependency_within_pyproject_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = _locked()
    assert all(version and hashes for version, hashes in pins.values()), "every line: name==version and hashes"
    wanted = [Requirement(r) for r in [*project["project"]["dependencies"], *project["build-system"]["requires"]]]
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in requirements.lock (README: Dependencies, to refresh it)"
        assert requirement.specifier.contains(pins[name][0]), f"requirements.lock pins {name} {pins[name][0]}, outside {requirement}"
