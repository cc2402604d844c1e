"""Application settings from environment variables, with defaults that work on a laptop."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Annotated

from pydantic import Field, IPvAnyNetwork, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.settings.hours import BusinessHours


def _random_token() -> SecretStr:
    return SecretStr(secrets.token_urlsafe(24))


class Settings(BaseSettings):
    """``Settings()`` reads the environment (and a ``.env`` file if present)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    host: str = Field("127.0.0.1", validation_alias="BOT_HOST")
    rasa_port: int = 5005
    action_port: int = 5055
    # Protects Rasa's HTTP API; a random one is made per run when none is set.
    rasa_api_token: SecretStr = Field(default_factory=lambda: _random_token())
    # Rasa's REST channel is for servers: every call needs "Authorization: Bearer <token>";
    # a random one is made per run when none is set (the terminal chat of `make run` uses it).
    rest_channel_token: SecretStr = Field(default_factory=lambda: _random_token())
    # Rasa calls the action server with "Authorization: Bearer <token>", and the action server
    # refuses every other caller; a random one is made per run when none is set.
    action_server_token: SecretStr = Field(default_factory=lambda: _random_token())
    # The input gate (connectors/gate.py): longer customer messages are refused, before NLU,
    # with a request to shorten them.
    max_message_chars: int = Field(1000, ge=1, le=100_000)
    rasa_model: Path | None = None
    rasa_venv: Path = Path(".venv-rasa")
    # Logs and the endpoints file of the running servers.
    run_dir: Path = Path("var/run")
    credentials_file: Path = Path("credentials.yml")
    endpoints_file: Path = Path("endpoints.yml")
    startup_timeout: float = 300.0
    # Supervision (`python -m bot run`): each server is probed over HTTP every PROBE_INTERVAL
    # seconds; PROBE_FAILURES probes in a row without any answer within PROBE_TIMEOUT seconds
    # mean it is hung, and it is killed and restarted like a server that exited. After
    # RESTART_LIMIT restarts of one server within RESTART_WINDOW seconds, the supervisor gives up.
    probe_interval: float = Field(1.0, gt=0)
    probe_timeout: float = Field(2.0, gt=0)
    probe_failures: int = Field(3, ge=1)
    restart_limit: int = Field(5, ge=1)
    restart_window: float = Field(300.0, gt=0)

    # The application database (customers, interactions; Rasa's SQL event broker writes its
    # events table here too). postgresql://user:password@host:5432/name for production.
    database_url: str = "sqlite:///var/app.db"
    # Rasa's tracker store; empty: var/rasa_tracker.db beside a SQLite app database, or the
    # database "<name>_tracker" on the same PostgreSQL server (Rasa creates it).
    tracker_store_url: str = ""
    web_port: int = 8000
    # The reverse proxies in front of the web service (nginx, HAProxy), as addresses or CIDRs
    # separated by commas ("127.0.0.1,10.0.0.0/8"). A request from one of them is counted as
    # from the client X-Forwarded-For names (bot/web/client_address.py); empty: the header is
    # ignored and every address is the connection's.
    trusted_proxies: Annotated[tuple[IPvAnyNetwork, ...], NoDecode] = ()
    # How many proxies stand in front of Rasa (one nginx: 1). Rasa (Sanic's PROXIES_COUNT) then
    # takes the client's address that many entries from the right of X-Forwarded-For; Rasa must
    # then be reachable only through them. 0: not set (an exported SANIC_PROXIES_COUNT still
    # reaches Rasa), Rasa counts the connection's address.
    rasa_proxies_count: int = Field(0, ge=0, le=16)
    # Rasa's address as browsers reach it (the widget's socket.io); empty: RASA_URL's.
    public_rasa_url: str = ""
    # Empty: Rasa's SQL event broker writes into the application database. An amqp:// URL:
    # Rasa publishes to RabbitMQ (its pika broker) and the worker consumes EVENT_QUEUE.
    event_broker_url: SecretStr = SecretStr("")
    event_queue: str = "shop_assistant_events"
    # How often the ingestion worker looks for new events (seconds).
    ingest_interval: float = Field(0.2, gt=0)
    ingest_batch: int = Field(500, gt=0)
    # /health answers 503 "degraded" when events wait and none was consumed for this long.
    ingest_stall_seconds: float = Field(30.0, gt=0)
    # HMAC-SHA256 key shared with the shop's server, which signs its customer ids with it;
    # empty: no signature is valid and every web visitor stays anonymous.
    identity_secret: SecretStr = SecretStr("")
    # Escalation: the bot hands a conversation to people after this many "not found" in a row.
    escalate_after_not_found: int = Field(2, ge=1)
    # When people answer (see bot.domain.handoff): what the bot promises when it hands over.
    business_hours: str = "09:00-21:00"
    business_timezone: str = "Asia/Shanghai"
    agent_online_seconds: float = Field(60.0, gt=0)
    # New tickets per hour from one conversation, and from one client address (socket.io).
    tickets_per_conversation_per_hour: int = Field(5, ge=1)
    tickets_per_address_per_hour: int = Field(20, ge=1)
    # The FAQ's source files (YAML/CSV), which the web service merges with agents' additions.
    faq_sources: Path = Path("data/faq")
    # Console cookies only over HTTPS: set when the web service is served through TLS.
    cookie_secure: bool = False
    # The first admin of a fresh deployment, created at start when no admin exists yet.
    admin_username: str = ""
    admin_password: SecretStr = SecretStr("")
    # "Add to FAQ" publishes to customers within seconds, unreviewed: admins only, unless this
    # trusts every agent with it.
    agents_may_publish_faq: bool = False
    # Mask e-mail addresses, phone numbers and ID-card numbers in the text we store.
    redact_pii: bool = False
    # `python -m bot purge` removes conversations idle for longer than this; 0 keeps everything.
    retention_days: int = Field(0, ge=0)

    # The WeChat Official Account channel (connectors/wechat.py), on when WECHAT_TOKEN is set.
    wechat_token: SecretStr = SecretStr("")
    wechat_app_id: str = ""
    wechat_app_secret: SecretStr = SecretStr("")
    # Set: safe mode (messages encrypted); the 43 characters from the account's settings.
    wechat_encoding_aes_key: SecretStr = SecretStr("")
    wechat_api_base_url: str = "https://api.weixin.qq.com"
    # Callbacks whose timestamp is further than this from now are refused (seconds).
    wechat_replay_window: float = Field(300.0, gt=0)
    # Answers ready within this many seconds go back in the callback's response; later ones
    # through the customer-service API (WeChat gives up on a response after 5 s).
    wechat_reply_deadline: float = Field(4.0, gt=0, lt=5)
    # Several Rasa servers: the WeChat access token and retry de-duplication live here.
    redis_url: SecretStr = SecretStr("")

    @field_validator("rasa_api_token", "rest_channel_token", "action_server_token", mode="before")
    @classmethod
    def _token_or_random(cls, value: object) -> object:
        return value or _random_token()

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part for part in re.split(r"[,\s]+", value) if part)
        return value

    @model_validator(mode="after")
    def _business_hours_are_readable(self) -> Settings:
        try:
            self.hours  # noqa: B018 (parsing is the check)
        except (ValueError, KeyError) as exc:  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"BUSINESS_HOURS / BUSINESS_TIMEZONE: {exc}") from None
        return self

    def environment(self) -> dict[str, str]:
        """Every setting as the environment variable that sets it, with secrets revealed: what
        a child process needs to see the supervisor's settings, whatever their source (the
        environment, ``.env``, a default made up at start such as a random token).

        >>> Settings(web_port=8123, trusted_proxies="10.0.0.1, 10.0.1.0/24").environment()["WEB_PORT"]
        '8123'
        >>> Settings(trusted_proxies="10.0.0.1, 10.0.1.0/24").environment()["TRUSTED_PROXIES"]
        '10.0.0.1/32,10.0.1.0/24'
        """
        environment = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            elif isinstance(value, bool):
                value = str(value).lower()
            elif isinstance(value, tuple | list):
                value = ",".join(str(item) for item in value)
            environment[self.variable(name)] = str(value)
        return environment

    @classmethod
    def variable(cls, name: str) -> str:
        """The environment variable that sets the field ``name``.

        >>> Settings.variable("host"), Settings.variable("web_port")
        ('BOT_HOST', 'WEB_PORT')
        """
        alias = cls.model_fields[name].validation_alias
        return alias if isinstance(alias, str) else name.upper()

    @property
    def hours(self) -> BusinessHours:
        """``business_hours`` in ``business_timezone``, read."""
        return BusinessHours.parse(self.business_hours, self.business_timezone)

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.host}:{self.action_port}"

    @property
    def web_url(self) -> str:
        return f"http://{self.host}:{self.web_port}"
