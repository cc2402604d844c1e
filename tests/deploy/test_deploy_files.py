"""The operators' deployment files (deploy/), checked as far as this machine allows: the compose
file's services, variables, commands and health checks against the code; Rasa's endpoints and
credentials against what ``python -m bot run`` writes; ``docker compose config`` where a compose
tool is installed. No container runs here. nginx runs the configuration in test_nginx_conf.py."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from aiohttp import web
from pydantic import SecretStr

from bot.__main__ import main as bot_main
from bot.runtime.processes import (
    action_server,
    credentials_for,
    endpoints_for,
    rasa_env,
    rasa_server,
    web_server,
)
from bot.settings import Settings
from bot.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NGINX_CONF = DEPLOY / "nginx" / "shop-assistant.conf"
# deploy/.env.example's variables that are not the application's settings: the passwords of the
# stores' containers and the public origin, from which deploy/compose.yml makes settings.
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "RABBITMQ_PASSWORD", "REDIS_PASSWORD", "PUBLIC_ORIGIN"}
FILLED = {
    "POSTGRES_PASSWORD": "pg-secret",
    "RABBITMQ_PASSWORD": "mq-secret",
    "REDIS_PASSWORD": "redis-secret",
    "PUBLIC_ORIGIN": "https://assistant.example.com",
    "RASA_API_TOKEN": "api-token",
    "REST_CHANNEL_TOKEN": "rest-token",
    "ACTION_SERVER_TOKEN": "action-token",
    "ADMIN_PASSWORD": "a long admin passphrase",
}


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yml").read_text(encoding="utf-8"))


def services() -> dict[str, Any]:
    return compose()["services"]


def interpolated(value: str, env: dict[str, str]) -> str:
    """``value`` with compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?message}``."""

    def one(match: re.Match[str]) -> str:
        name, op, rest = match.group(1), match.group(2), match.group(3)
        if env.get(name):
            return env[name]
        if op == ":?":
            raise KeyError(f"{name}: {rest}")
        return rest or ""

    return re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", one, value)


def env_names(path: Path) -> list[str]:
    return re.findall(r"^(\w+)=", path.read_text(encoding="utf-8"), flags=re.MULTILINE)


def app_services() -> dict[str, Any]:
    return {
        name: s
        for name, s in services().items()
        if s.get("image", "").startswith("shop-assistant-app")
    }


def rasa_services() -> dict[str, Any]:
    return {
        name: s
        for name, s in services().items()
        if s.get("image", "").startswith("shop-assistant-rasa")
    }


def service_settings(service: dict[str, Any]) -> Settings:
    """The settings an app container would read: deploy/.env.example (filled) and its
    environment, as compose would interpolate them."""
    env = {name: "" for name in env_names(DEPLOY / ".env.example")}
    for line in (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines():
        if re.match(r"^\w+=", line):
            name, value = line.split("=", 1)
            env[name] = value
    env.update(FILLED)
    values = {k: interpolated(str(v), env) for k, v in service["environment"].items()}
    known = set(Settings().environment())  # the FAQ library's settings are not Settings'
    given = {k: v for k, v in {**env, **values}.items() if k in known}
    return Settings(_env_file=None, **{_field(k): v for k, v in given.items()})


def _field(variable: str) -> str:
    return {Settings.variable(name): name for name in Settings.variables()}[variable]


def test_the_topology_has_every_server_twice_and_restarts_them():
    found = services()
    assert {"postgres", "redis", "rabbitmq", "migrate", "faq-index", "nginx"} <= set(found)
    assert sorted(rasa_services()) == ["rasa-1", "rasa-2"]
    assert sorted(n for n in app_services() if n.startswith("actions")) == [
        "actions-1",
        "actions-2",
    ]
    assert sorted(n for n in app_services() if n.startswith("web")) == ["web-1", "web-2"]
    for name, service in found.items():
        expected = "no" if name in ("migrate", "faq-index") else "unless-stopped"
        assert service.get("restart") == expected, name
    # Nothing starts before the schema is current.
    for name in [*rasa_services(), "actions-1", "web-1"]:
        condition = found[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name
    # Only nginx is published.
    assert [n for n, s in found.items() if s.get("ports")] == ["nginx"]


def known_settings() -> set[str]:
    """The application's settings and the FAQ library's (the root .env.example lists both)."""
    root_example = set(re.findall(r"^#? ?([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    return set(Settings().environment()) | root_example


def test_every_variable_is_a_setting_or_is_declared_as_compose_only():
    settings_names = known_settings()
    example = env_names(DEPLOY / ".env.example")
    assert set(example) - settings_names == COMPOSE_ONLY
    text = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    compose_section = text.split("# --- compose", 1)[1].split("\n# --- ", 1)[0]
    assert all(f"\n{name}=" in compose_section for name in COMPOSE_ONLY)
    # The action server's own process variables, as bot/runtime/processes.py sets them.
    action_process = set(action_server(Settings()).env) - settings_names - {"PYTHONPATH"}
    for name, service in app_services().items():
        unknown = set(service["environment"]) - settings_names - action_process
        assert not unknown, (name, unknown)
    # Rasa's: what processes.py gives the Rasa server it starts, for these stores.
    stores = service_settings(services()["web-1"]).model_copy()
    rasa_names = set(rasa_server(stores, Path("m"), Path("e"), Path("c")).env) | {
        "SANIC_PROXIES_COUNT"  # processes.proxy_env, from RASA_PROXIES_COUNT
    }
    for name, service in rasa_services().items():
        unknown = set(service["environment"]) - rasa_names
        assert not unknown, (name, unknown)


def test_every_variable_compose_needs_is_in_the_example_and_secrets_come_from_it():
    text = (DEPLOY / "compose.yml").read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{(\w+):\?", text))
    assert required <= set(env_names(DEPLOY / ".env.example"))
    secret_settings = {
        Settings.variable(name)
        for section in Settings.model_fields.values()
        for name, field in section.annotation.model_fields.items()  # type: ignore[union-attr]
        if field.annotation is SecretStr
    }
    for name, service in services().items():
        for variable, value in (service.get("environment") or {}).items():
            if variable in secret_settings or re.search("PASSWORD|TOKEN|SECRET|AUTH", variable):
                assert "${" in str(value), f"{name}: {variable} must come from the environment"


def test_the_app_services_read_settings_that_make_sense():
    web_1, web_2 = (service_settings(services()[n]) for n in ("web-1", "web-2"))
    assert {web_1.servers.web_port, web_2.servers.web_port} == {8001, 8002}
    assert web_1.database.database_url.startswith("postgresql://shop:pg-secret@postgres")
    assert web_1.wechat.redis_url.get_secret_value() == "redis://:redis-secret@redis:6379/0"
    # Agents' replies go to nginx's internal listener for Rasa's HTTP API.
    assert web_1.servers.rasa_url == "http://127.0.0.1:5005"
    assert "listen 127.0.0.1:5005;" in NGINX_CONF.read_text(encoding="utf-8")
    assert [str(n) for n in web_1.web.trusted_proxies] == ["127.0.0.1/32"]
    assert web_1.web.cookie_secure


def test_rasas_endpoints_are_what_our_code_writes_for_these_stores(tmp_path):
    settings = service_settings(services()["web-1"])
    ours = yaml.safe_load(endpoints_for(settings, tmp_path / "endpoints.yml").read_text())
    ours["action_endpoint"]["url"] = "http://nginx:5055/webhook"  # the action servers' pool
    shipped = yaml.safe_load((DEPLOY / "rasa" / "endpoints.yml").read_text(encoding="utf-8"))
    assert shipped == ours


def test_rasas_credentials_are_the_root_ones_without_wechat(tmp_path):
    settings = Settings(_env_file=None, wechat_token="")
    ours = yaml.safe_load(credentials_for(settings, tmp_path / "credentials.yml").read_text())
    shipped = yaml.safe_load((DEPLOY / "rasa" / "credentials.yml").read_text(encoding="utf-8"))
    assert shipped == ours


def test_rasa_gets_every_variable_its_files_name():
    needed = set()
    for name in ("endpoints.yml", "credentials.yml"):
        text = re.sub(r"#.*", "", (DEPLOY / "rasa" / name).read_text(encoding="utf-8"))
        needed |= set(re.findall(r"\$\{(\w+)\}", text))
    dockerfile_env = set(re.findall(r"^\s+(\w+)=", dockerfile("rasa"), flags=re.MULTILINE))
    for name, service in rasa_services().items():
        missing = needed - set(service["environment"]) - dockerfile_env
        assert not missing, (name, missing)
    assert f"SANIC_REQUEST_MAX_SIZE={rasa_env(Settings())['SANIC_REQUEST_MAX_SIZE']}" in (
        dockerfile("rasa")
    )


def dockerfile(kind: str) -> str:
    return (DEPLOY / f"Dockerfile.{kind}").read_text(encoding="utf-8")


def dockerfile_cmd(kind: str) -> list[str]:
    match = re.search(r"^CMD (\[.*?\])\s*$", dockerfile(kind), flags=re.MULTILINE | re.DOTALL)
    assert match
    return json.loads(match.group(1).replace("\\\n", ""))


def test_the_images_are_built_as_make_setup_builds_the_venvs():
    app, rasa = dockerfile("app"), dockerfile("rasa")
    assert (
        "python:3.11" in app and "-r /tmp/app.txt" in app and "COPY .ci/requirements/app.txt" in app
    )
    assert "download.pytorch.org/whl/cpu" in app  # no CUDA libraries
    assert "python:3.10" in rasa and "COPY .ci/requirements/rasa.txt" in rasa
    assert "rasa==3.6.21" in (ROOT / ".ci/requirements/rasa.txt").read_text()
    for text in (app, rasa):
        users = re.findall(r"^USER (\S+)", text, flags=re.MULTILINE)
        assert users and users[-1] not in ("root", "0")
        for line in re.findall(r"^(?:ENV|ARG)\b.*(?:\n\s+.*)*", text, flags=re.MULTILINE):
            assert not re.search("PASSWORD|TOKEN|SECRET", line), line
        for source in re.findall(r"^COPY (?!--from)(.+) \S+$", text, flags=re.MULTILINE):
            for path in source.split():
                assert (ROOT / path).exists(), path


def run_help(argv: list[str], capsys, main=bot_main) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_every_command_is_a_real_entry_point(capsys):
    commands = [s["command"] for s in app_services().values()] + [dockerfile_cmd("app")]
    for command in commands:
        assert command[:2] == ["python", "-m"], command
        module, args = command[2], command[3:]
        if module == "bot":
            assert args in (["web"], ["migrate"]), command
            run_help(args, capsys)
        elif module == "bot.runtime.action_server":
            from bot.runtime import action_server as action_server_module

            out = run_help([], capsys, action_server_module.main)
            assert all(option in out for option in args if option.startswith("--"))
            assert args == action_server(Settings(action_port=5055)).command[3:]
        elif module == "faq_index":
            assert args[:3] == ["build", "--source", "data/faq"] and (ROOT / "data/faq").is_dir()
        else:
            pytest.fail(f"unknown entry point {command}")
    rasa = dockerfile_cmd("rasa")
    assert rasa[:4] == ["python", "-m", "connectors.launch", "run"]
    assert (ROOT / "connectors" / "launch.py").is_file()
    ours = rasa_server(Settings(), Path("models"), Path("endpoints.yml"), Path("credentials.yml"))
    assert [a for a in rasa if a.startswith("--")] == [
        a for a in ours.command if a.startswith("--")
    ]


def healthcheck_url(service: dict[str, Any]) -> str:
    test = " ".join(service["healthcheck"]["test"])
    match = re.search(r"http://127\.0\.0\.1:\d+/[^'\"\s]*", test)
    assert match, test
    return match.group(0)


def test_health_checks_ask_the_routes_the_supervisor_probes():
    web_routes = {
        r.resource.canonical for r in create_app(Settings()).router.routes() if r.resource
    }
    for name, service in services().items():
        if name in ("migrate", "faq-index"):
            assert "healthcheck" not in service
            continue
        assert service["healthcheck"]["test"], name
        if name.startswith("web"):
            url = urlsplit(healthcheck_url(service))
            assert url.port == int(service["environment"]["WEB_PORT"])
            assert url.path == urlsplit(web_server(Settings()).ready_url).path
            assert url.path in web_routes
        elif name.startswith("actions"):
            url = urlsplit(healthcheck_url(service))
            assert str(url.port) == service["command"][service["command"].index("--port") + 1]
            assert url.path == urlsplit(action_server(Settings()).ready_url).path
        elif name.startswith("rasa"):
            url = urlsplit(healthcheck_url(service))
            assert (
                str(url.port) == dockerfile_cmd("rasa")[dockerfile_cmd("rasa").index("--port") + 1]
            )
            ours = rasa_server(Settings(), Path("m"), Path("e"), Path("c"))
            assert url.path == urlsplit(ours.live_url).path
        elif name == "nginx":
            assert "/healthz" in " ".join(service["healthcheck"]["test"])
            assert "location = /healthz" in NGINX_CONF.read_text(encoding="utf-8")


def test_nginx_body_limit_matches_the_servers():
    conf = NGINX_CONF.read_text(encoding="utf-8")
    assert "client_max_body_size 1m;" in conf
    assert int(rasa_env(Settings())["SANIC_REQUEST_MAX_SIZE"]) == 1024 * 1024
    assert web.Application()._client_max_size == 1024 * 1024
    assert "non_idempotent" not in re.sub(r"#.*", "", conf)  # a sent POST is never repeated


def compose_tool() -> list[str] | None:
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_docker_compose_accepts_the_file(tmp_path):
    tool = compose_tool()
    if tool is None:
        pytest.skip("no compose tool (docker compose plugin or docker-compose) on this machine")
    shutil.copytree(DEPLOY, tmp_path / "deploy")
    example = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    filled = "".join(f"{k}={v}\n" for k, v in FILLED.items())
    (tmp_path / "deploy" / ".env").write_text(example + filled, encoding="utf-8")
    result = subprocess.run(
        [*tool, "-f", str(tmp_path / "deploy" / "compose.yml"), "config", "--quiet"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (tmp_path / "deploy" / ".env").write_text(example, encoding="utf-8")  # passwords unset
    refused = subprocess.run(
        [*tool, "-f", str(tmp_path / "deploy" / "compose.yml"), "config", "--quiet"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode != 0 and "POSTGRES_PASSWORD" in refused.stderr
