"""nginx in front of the cluster's replicas (:mod:`bot.runtime.cluster`), its configuration
rendered from the settings.

- It listens where the settings say the servers are (``RASA_PORT``, ``ACTION_PORT``,
  ``WEB_PORT`` on ``BOT_HOST``) and spreads the requests over the replicas.
- ``/socket.io/`` on the Rasa port is sticky (``ip_hash``: one client address, one Rasa
  server), as python-socketio requires: a long-polling client's requests must reach the server
  that holds its session; WebSocket upgrades pass through. The other Rasa requests (REST
  channel, WeChat callbacks, the HTTP API) go to any Rasa server, the one with the fewest
  requests in hand.
- Passive health checks: a replica that refused a connection or timed out is left out for
  ``FAIL_TIMEOUT`` (``max_fails=1``). A request that never reached a replica (connection
  refused: it is down) is passed to the next one; a request that did reach one is never sent
  again when it is a POST (nginx's rule for non-idempotent methods, which this configuration
  keeps): a customer's message must not run twice. The client gets 502 then and may retry.
- The Rasa servers call the action servers through nginx's action port, so that a dead
  action server is routed around in the same way.
- It runs as the user who starts it (ports above 1024; when that user is root, its workers
  run as ``nobody``), in the foreground (``daemon off``), with its pid file, temporary
  files and logs under ``RUN_DIR/nginx``. Request and response bodies stay in memory, so that
  the workers never need to write there.

>>> from bot.settings import Settings
>>> from bot.runtime.cluster import topology
>>> settings = Settings(cluster_replicas=2, _env_file=None)
>>> conf = render_nginx_conf(settings, topology(settings), Path("/srv/run/nginx"))
>>> "server 127.0.0.1:5006 max_fails=1 fail_timeout=5s;" in conf, "ip_hash;" in conf
(True, True)
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from bot.runtime.cluster import KINDS, Kind, Replica, front_port
from bot.runtime.processes import ServiceSpec
from bot.settings import Settings

NGINX = "/usr/sbin/nginx"
FAIL_TIMEOUT = 5  # seconds a failed replica is left out
HEALTH_PATH = "/nginx-health"  # answered by nginx itself, on the web port
# Longest Rasa turn we wait for (a turn held while the action server restarts, a slow model).
READ_TIMEOUT = 120
UPSTREAM = {"web": "web", "actions": "actions", "rasa": "rasa"}


def nginx_binary() -> str:
    """Debian's nginx, or one on PATH; ``make cluster`` installs it when missing.

    Raises:
        FileNotFoundError: no nginx installed.
    """
    if os.access(NGINX, os.X_OK):
        return NGINX
    found = shutil.which("nginx")
    if found is None:
        raise FileNotFoundError(
            f"no nginx at {NGINX} or on PATH: `make cluster` installs Debian's "
            "(apt-get install nginx)"
        )
    return found


def _servers(replicas: list[Replica], host: str) -> str:
    return "\n".join(
        f"        server {host}:{r.port} max_fails=1 fail_timeout={FAIL_TIMEOUT}s;"
        for r in replicas
    )


def _upstreams(settings: Settings, replicas: list[Replica]) -> str:
    host = settings.servers.host
    blocks = []
    for kind in KINDS:
        members = _servers([r for r in replicas if r.kind == kind], host)
        blocks.append(f"    upstream {UPSTREAM[kind]} {{\n        least_conn;\n{members}\n    }}")
    rasa = _servers([r for r in replicas if r.kind == "rasa"], host)
    blocks.append(f"    upstream rasa_socketio {{\n        ip_hash;\n{rasa}\n    }}")
    return "\n".join(blocks)


def _server(settings: Settings, kind: Kind, locations: str) -> str:
    listen = f"{settings.servers.host}:{front_port(settings.servers, kind)}"
    return f"""    server {{
        listen {listen};
{locations}
        location / {{
            proxy_pass http://{UPSTREAM[kind]};
        }}
    }}"""


# Every request's headers to the replicas (nginx drops the http level's proxy_set_header in
# a location that sets any: the socket.io location repeats them).
FORWARDED = """proxy_set_header Host $http_host;
proxy_set_header X-Real-IP $remote_addr;
proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
proxy_set_header X-Forwarded-Proto $scheme;"""


def _indent(text: str, spaces: int) -> str:
    return "\n".join(" " * spaces + line for line in text.splitlines())


SOCKETIO = f"""        location /socket.io/ {{
            proxy_pass http://rasa_socketio;
{_indent(FORWARDED, 12)}
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            # A long-polling request or a WebSocket waits longer than a turn.
            proxy_read_timeout 3600s;
            # Only a replica that is down is skipped: another knows nothing of the session.
            proxy_next_upstream error;
        }}
"""

WEB = f"""        location = {HEALTH_PATH} {{
            access_log off;
            default_type text/plain;
            return 200 "ok\\n";
        }}
"""


def render_nginx_conf(settings: Settings, replicas: list[Replica], prefix: Path) -> str:
    """nginx's configuration for ``replicas`` (see :func:`bot.runtime.cluster.topology`); its
    own files under ``prefix``."""
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
    servers = "\n".join(
        [
            _server(settings, "rasa", SOCKETIO),
            _server(settings, "actions", ""),
            _server(settings, "web", WEB),
        ]
    )
    return f"""# Made by `python -m bot cluster` from the settings (bot/runtime/load_balancer.py); any
# change here is lost at the next start.
{user}worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;

events {{
    worker_connections 4096;
}}

http {{
    log_format cluster '$remote_addr [$time_iso8601] "$request_method $uri" $status '
                       '$request_time upstream=$upstream_addr ($upstream_status)';
    access_log {prefix}/access.log cluster;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;

    # Bodies in memory only (the servers refuse more than 1 MB anyway).
    client_max_body_size 1m;
    client_body_buffer_size 1m;
    proxy_buffering off;
    proxy_request_buffering on;
    proxy_max_temp_file_size 0;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        '' '';
    }}
    proxy_http_version 1.1;
{_indent(FORWARDED, 4)}
    proxy_set_header Connection "";
    proxy_connect_timeout 2s;
    proxy_read_timeout {READ_TIMEOUT}s;
    proxy_send_timeout {READ_TIMEOUT}s;
    # To the next replica only what did not reach one, or an idempotent request that failed:
    # nginx never passes a POST on once it was sent (unless told "non_idempotent": never).
    proxy_next_upstream error timeout http_502;
    proxy_next_upstream_timeout 10s;

{_upstreams(settings, replicas)}

{servers}
}}
"""


def write_nginx_conf(settings: Settings, replicas: list[Replica]) -> Path:
    """Render the configuration into ``RUN_DIR/nginx/nginx.conf``; its path."""
    prefix = (settings.supervision.run_dir / "nginx").resolve()
    prefix.mkdir(parents=True, exist_ok=True)
    path = prefix / "nginx.conf"
    path.write_text(render_nginx_conf(settings, replicas, prefix), encoding="utf-8")
    return path


def nginx_command(conf: Path) -> list[str]:
    """nginx on ``conf``, its error log before the configuration is read in the same place."""
    prefix = conf.parent
    return [nginx_binary(), "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf)]


def nginx_server(settings: Settings, replicas: list[Replica]) -> ServiceSpec:
    """nginx as a server of the cluster, ready when it answers its health path."""
    conf = write_nginx_conf(settings, replicas)
    return ServiceSpec(
        name="nginx",
        command=nginx_command(conf),
        ready_url=f"{settings.servers.web_url}{HEALTH_PATH}",
        log_path=settings.supervision.run_dir / "nginx.log",
    )
