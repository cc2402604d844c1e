"""``python -m bot cluster``: which servers it starts where, what it refuses, and the nginx
configuration in front of them."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.runtime.cluster import ClusterRefused, check_shared_stores, cluster_processes, topology
from bot.runtime.load_balancer import NGINX, nginx_binary, render_nginx_conf, write_nginx_conf
from bot.settings import Settings

REPO = Path(__file__).resolve().parents[3]
SHARED = {
    "database_url": "postgresql://shop:db-s3cret@127.0.0.1:5432/shop",
    "redis_url": "redis://:redis-s3cret@127.0.0.1:6379/3",
    "event_broker_url": "amqp://guest:amqp-s3cret@127.0.0.1:5672/",
}


def settings(tmp_path: Path, **values) -> Settings:
    chosen = {
        "rasa_port": 18100,
        "action_port": 18110,
        "web_port": 18120,
        "run_dir": tmp_path / "run",
        "credentials_file": REPO / "credentials.yml",
        "endpoints_file": REPO / "endpoints.yml",
        "rasa_api_token": "api-s3cret",
        "rest_channel_token": "rest-s3cret",
        "action_server_token": "act-s3cret",
        **SHARED,
        **values,
    }
    return Settings(**chosen, _env_file=None)


def test_each_replica_has_its_name_and_port_and_nginx_has_the_settings_ports(tmp_path):
    replicas = topology(settings(tmp_path, cluster_replicas=3))
    assert [(r.name, r.port) for r in replicas] == [
        ("web-1", 18121),
        ("web-2", 18122),
        ("web-3", 18123),
        ("actions-1", 18111),
        ("actions-2", 18112),
        ("actions-3", 18113),
        ("rasa-1", 18101),
        ("rasa-2", 18102),
        ("rasa-3", 18103),
    ]


def test_ports_too_close_for_the_replicas_are_refused(tmp_path):
    with pytest.raises(ClusterRefused, match="too close"):
        topology(settings(tmp_path, rasa_port=18100, action_port=18102, cluster_replicas=2))


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"database_url": "sqlite:///var/app.db"}, "DATABASE_URL must be PostgreSQL"),
        ({"redis_url": ""}, "REDIS_URL"),
        ({"event_broker_url": ""}, "EVENT_BROKER_URL"),
    ],
)
def test_a_store_only_one_process_can_use_is_refused_naming_the_setting(tmp_path, given, named):
    with pytest.raises(ClusterRefused, match=named) as refused:
        check_shared_stores(settings(tmp_path, **given))
    assert "s3cret" not in str(refused.value)


def test_the_command_refuses_sqlite_before_starting_anything(tmp_path, monkeypatch):
    from bot.runtime.cluster_run import run_cluster

    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")
    chosen = settings(tmp_path, database_url=f"sqlite:///{tmp_path / 'app.db'}")
    assert run_cluster(chosen, model) == 2
    assert not (tmp_path / "run").exists()


def test_replicas_listen_on_their_own_ports_and_reach_the_others_through_nginx(tmp_path):
    chosen = settings(tmp_path)
    processes = {p.name: p.spec for p in cluster_processes(chosen, tmp_path / "m.tar.gz", tmp_path)}
    assert list(processes) == [
        "web-1",
        "web-2",
        "actions-1",
        "actions-2",
        "rasa-1",
        "rasa-2",
        "nginx",
    ]
    rasa = processes["rasa-2"]
    assert rasa.command[rasa.command.index("--port") + 1] == "18102"
    assert rasa.ready_url.startswith("http://127.0.0.1:18102/status")
    assert rasa.env["SANIC_PROXIES_COUNT"] == "1"  # the client's address behind nginx
    assert int(rasa.env["TICKET_LOCK_LIFETIME"]) <= 10  # a dead replica's lock is freed soon
    actions = processes["actions-1"]
    assert actions.command[actions.command.index("--port") + 1] == "18111"
    web = processes["web-2"]
    assert (web.env["WEB_PORT"], web.env["RASA_PORT"]) == ("18122", "18100")
    assert web.env["TRUSTED_PROXIES"] == "127.0.0.1/32"
    logs = [spec.log_path for spec in processes.values()]
    assert len(set(logs)) == len(logs)
    endpoints = yaml.safe_load((tmp_path / "endpoints.yml").read_text())
    assert endpoints["action_endpoint"]["url"] == "http://127.0.0.1:18110/webhook"
    assert endpoints["lock_store"]["type"] == "redis"
    credentials = yaml.safe_load((tmp_path / "credentials.yml").read_text())
    assert credentials["connectors.socketio.WidgetSocketIOInput"]["redis_url"] == "${REDIS_URL}"
    for spec in processes.values():
        assert "s3cret" not in " ".join(spec.command), spec.name
    for written in [tmp_path / "endpoints.yml", tmp_path / "credentials.yml"]:
        assert "s3cret" not in written.read_text()


def _location(conf: str, path: str) -> str:
    return re.search(r"location " + re.escape(path) + r" \{(.*?)\n        \}", conf, re.S)[1]


def test_socketio_is_sticky_and_upgraded_with_the_clients_address(tmp_path):
    chosen = settings(tmp_path)
    conf = render_nginx_conf(chosen, topology(chosen), tmp_path)
    upstream = re.search(r"upstream rasa_socketio \{(.*?)\}", conf, re.S)[1]
    assert "ip_hash;" in upstream and upstream.count("server 127.0.0.1:181") == 2
    socketio = _location(conf, "/socket.io/")
    assert "proxy_pass http://rasa_socketio;" in socketio
    assert "proxy_set_header Upgrade $http_upgrade;" in socketio
    assert "proxy_set_header Connection $connection_upgrade;" in socketio
    # A location setting any header loses the http level's: the client's address is repeated.
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in socketio


def test_a_post_that_reached_a_replica_is_never_sent_to_another(tmp_path):
    chosen = settings(tmp_path)
    conf = render_nginx_conf(chosen, topology(chosen), tmp_path)
    assert not re.search(r"proxy_next_upstream [^;]*non_idempotent", conf)
    assert "proxy_next_upstream error timeout http_502;" in conf
    assert conf.count("max_fails=1 fail_timeout=5s") == 8  # 2 each: web, actions, rasa, socket.io


@pytest.mark.skipif(
    not Path(NGINX).exists() and subprocess.run(["which", "nginx"]).returncode != 0,
    reason="no nginx installed (make cluster installs Debian's)",
)
def test_nginx_accepts_the_rendered_configuration(tmp_path):
    chosen = settings(tmp_path)
    conf = write_nginx_conf(chosen, topology(chosen))
    prefix = conf.parent
    done = subprocess.run(
        [nginx_binary(), "-t", "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr
