"""The sections of the settings, each named for the part of the application that reads it.

Field names are unique across sections: each is its variable's name in lower case, and
``Settings(web_port=8123)`` finds its section by it.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, IPvAnyNetwork, SecretStr, field_validator, model_validator

from bot.settings.hours import BusinessHours
from bot.settings.section import Section
from connectors.widget_session import origin_list


def _random_token() -> SecretStr:
    return SecretStr(secrets.token_urlsafe(24))


class ServerSettings(Section):
    """Where the three servers listen, and their addresses."""

    host: str = Field("127.0.0.1", validation_alias="BOT_HOST")
    rasa_port: int = 5005
    action_port: int = 5055
    web_port: int = 8000
    # Rasa's address as browsers reach it (the widget's socket.io); empty: rasa_url.
    public_rasa_url: str = ""

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.host}:{self.action_port}"

    @property
    def web_url(self) -> str:
        return f"http://{self.host}:{self.web_port}"


class RasaSettings(Section):
    """What Rasa's server reads from its environment: its tokens, the input gate's bound, the
    proxies in front of it."""

    # Protects Rasa's HTTP API; a random one is made per run when none is set.
    rasa_api_token: SecretStr = Field(default_factory=_random_token)
    # Rasa's REST channel is for servers: every call needs "Authorization: Bearer <token>";
    # a random one is made per run when none is set (the terminal chat of `make run` uses it).
    rest_channel_token: SecretStr = Field(default_factory=_random_token)
    # Rasa calls the action server with "Authorization: Bearer <token>", and the action server
    # refuses every other caller; a random one is made per run when none is set.
    action_server_token: SecretStr = Field(default_factory=_random_token)
    # The input gate (connectors/gate.py): longer customer messages are refused, before NLU,
    # with a request to shorten them.
    max_message_chars: int = Field(1000, ge=1, le=100_000)
    # How many proxies stand in front of Rasa (one nginx: 1). Rasa (Sanic's PROXIES_COUNT) then
    # takes the client's address that many entries from the right of X-Forwarded-For; Rasa must
    # then be reachable only through them. 0: not set (an exported SANIC_PROXIES_COUNT still
    # reaches Rasa), Rasa counts the connection's address.
    rasa_proxies_count: int = Field(0, ge=0, le=16)
    # The shop's pages that may use the widget's socket.io channel from a browser, by websocket
    # or long-polling, as origins separated by commas ("https://shop.example.com"); the web
    # service's own origin (the demo page) is always allowed, every other page refused.
    cors_allowed_origins: tuple[str, ...] = ()

    @field_validator("rasa_api_token", "rest_channel_token", "action_server_token", mode="before")
    @classmethod
    def _token_or_random(cls, value: object) -> object:
        return value or _random_token()

    @field_validator("cors_allowed_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(origin_list(value))
        if isinstance(value, list | tuple):
            return tuple(origin_list(",".join(str(item) for item in value)))
        return value


class SupervisionSettings(Section):
    """How ``python -m bot run`` starts the servers and keeps them alive."""

    # The trained model Rasa serves (`make run` passes the one it trained).
    rasa_model: Path | None = None
    rasa_venv: Path = Path(".venv-rasa")
    # The Rasa files the run's copies are made from.
    credentials_file: Path = Path("credentials.yml")
    endpoints_file: Path = Path("endpoints.yml")
    # Logs and the endpoints and credentials files of the running servers.
    run_dir: Path = Path("var/run")
    # How long a server may take to become ready (Rasa loads its model).
    startup_timeout: float = 300.0
    # Each server is probed over HTTP every PROBE_INTERVAL seconds; PROBE_FAILURES probes in a
    # row without any answer within PROBE_TIMEOUT seconds mean it is hung, and it is killed and
    # restarted like a server that exited. After RESTART_LIMIT restarts of one server within
    # RESTART_WINDOW seconds, the supervisor gives up.
    probe_interval: float = Field(1.0, gt=0)
    probe_timeout: float = Field(2.0, gt=0)
    probe_failures: int = Field(3, ge=1)
    restart_limit: int = Field(5, ge=1)
    restart_window: float = Field(300.0, gt=0)
    # `python -m bot run` keeps a second Rasa server loaded beside the one that serves, which
    # takes the port within a second when that one crashes or hangs (a fresh one takes 40-80 s
    # to load its model); it costs a second Rasa server's memory (about 1 GB). The same for
    # the action server (a fresh one takes 7-10 s to load the FAQ model; about 0.7 GB).
    rasa_standby: bool = True
    actions_standby: bool = True
    # `python -m bot cluster` (`make cluster`): how many Rasa servers, action servers and web
    # services it starts behind nginx, which listens on RASA_PORT, ACTION_PORT and WEB_PORT;
    # replica i of each listens on that port + i.
    cluster_replicas: int = Field(2, ge=1, le=9)


class DatabaseSettings(Section):
    """The application's database and Rasa's tracker store."""

    # Customers, interactions; Rasa's SQL event broker writes its events table here too.
    # postgresql://user:password@host:5432/name for production.
    database_url: str = "sqlite:///var/app.db"
    # Empty: var/rasa_tracker.db beside a SQLite app database, or the database "<name>_tracker"
    # on the same PostgreSQL server (Rasa creates it).
    tracker_store_url: str = ""


class IngestionSettings(Section):
    """How Rasa's events reach the ingestion worker, and how it takes them."""

    # Empty: Rasa's SQL event broker writes into the application database. An amqp:// URL:
    # Rasa publishes to RabbitMQ (its pika broker) and the worker consumes EVENT_QUEUE.
    event_broker_url: SecretStr = SecretStr("")
    event_queue: str = "shop_assistant_events"
    # How often the worker looks for new events (seconds), and how many it stores at once.
    ingest_interval: float = Field(0.2, gt=0)
    ingest_batch: int = Field(500, gt=0)
    # /health answers 503 "degraded" when events wait and none was consumed for this long.
    ingest_stall_seconds: float = Field(30.0, gt=0)


class WebSettings(Section):
    """The web service: the proxies in front of it, the agents' console, the FAQ it edits."""

    # The reverse proxies in front of the web service (nginx, HAProxy), as addresses or CIDRs
    # separated by commas ("127.0.0.1,10.0.0.0/8"). A request from one of them is counted as
    # from the client X-Forwarded-For names (bot/web/client_address.py); empty: the header is
    # ignored and every address is the connection's.
    trusted_proxies: tuple[IPvAnyNetwork, ...] = ()
    # Console cookies only over HTTPS: set when the web service is served through TLS.
    cookie_secure: bool = False
    # The first admin of a fresh deployment, created at start when no admin exists yet.
    admin_username: str = ""
    admin_password: SecretStr = SecretStr("")
    # "Add to FAQ" publishes to customers within seconds, unreviewed: admins only, unless this
    # trusts every agent with it.
    agents_may_publish_faq: bool = False
    # The FAQ's source files (YAML/CSV), which the web service merges with agents' additions.
    faq_sources: Path = Path("data/faq")
    # The widget's greeting, shown before the customer writes (English; Chinese in
    # WIDGET_GREETING_ZH, Simplified, converted for Taiwan and Hong Kong); empty: none.
    widget_greeting: str = Field("", max_length=500)
    widget_greeting_zh: str = Field("", max_length=500)
    # Ask for a name and an e-mail address before a new conversation starts (they go into the
    # customer's profile, which agents see).
    widget_prechat_form: bool = False

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part for part in re.split(r"[,\s]+", value) if part)
        return value


class HandoffSettings(Section):
    """When the bot hands a conversation to people, and what it promises them (the actions and
    :mod:`bot.domain.handoff`)."""

    # The bot hands over by itself after this many "not found" in a row.
    escalate_after_not_found: int = Field(2, ge=1)
    # When people answer: what the bot promises when it hands over.
    business_hours: str = "09:00-21:00"
    business_timezone: str = "Asia/Shanghai"
    # An agent counts as online this long after their console last reported (seconds).
    agent_online_seconds: float = Field(60.0, gt=0)
    # New tickets per hour from one conversation, and from one client address (socket.io).
    tickets_per_conversation_per_hour: int = Field(5, ge=1)
    tickets_per_address_per_hour: int = Field(20, ge=1)
    # The console colours a ticket's wait against this first-response target (seconds).
    first_response_target: float = Field(300.0, gt=0)
    # New tickets go to online agents in turn (a returning customer to their last agent), at
    # most AGENT_TICKET_LIMIT unresolved tickets each; admins can switch it off in the console.
    auto_assign: bool = True
    agent_ticket_limit: int = Field(5, ge=1)

    @model_validator(mode="after")
    def _business_hours_are_readable(self) -> HandoffSettings:
        try:
            self.hours  # noqa: B018 (parsing is the check)
        except (ValueError, KeyError) as exc:  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"BUSINESS_HOURS / BUSINESS_TIMEZONE: {exc}") from None
        return self

    @property
    def hours(self) -> BusinessHours:
        """``business_hours`` in ``business_timezone``, read."""
        return BusinessHours.parse(self.business_hours, self.business_timezone)


class PrivacySettings(Section):
    """Who a customer is, and what is kept of what they said, for how long."""

    # HMAC-SHA256 key shared with the shop's server, which signs its customer ids with it;
    # empty: no signature is valid and every web visitor stays anonymous.
    identity_secret: SecretStr = SecretStr("")
    # Mask e-mail addresses, phone numbers and ID-card numbers in the text we store.
    redact_pii: bool = False
    # `python -m bot purge` removes conversations idle for longer than this; 0 keeps everything.
    retention_days: int = Field(0, ge=0)


class WeChatSettings(Section):
    """The WeChat Official Account channel (connectors/wechat.py), on when WECHAT_TOKEN is set;
    Rasa reads these from its environment."""

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
    # Several servers: the WeChat access token and retry de-duplication live here, and the web
    # services pass the console's live updates to each other through it.
    redis_url: SecretStr = SecretStr("")


class MailSettings(Section):
    """E-mail continuity (:mod:`bot.domain.mail`, :mod:`bot.workers.mail_outbox`,
    :mod:`bot.workers.mail_inbound`): agents' replies a customer has not seen reach them by
    e-mail, and their e-mailed answers come back into the conversation. Off while SMTP_HOST is
    empty."""

    # The shop's SMTP server, which sends our mail; empty: nothing is e-mailed.
    smtp_host: str = ""
    # Empty: the security's usual port (none: 25, starttls: 587, tls: 465).
    smtp_port: int | None = Field(None, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    # none: plain SMTP (a relay on the same host only); starttls: upgrade after connecting;
    # tls: TLS from the start (SMTPS).
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    # The sender of our mails ("Shop Support <support@shop.example.com>").
    mail_from: str = ""
    # The domain of the reply addresses (reply+TOKEN@MAIL_REPLY_DOMAIN); its mail must reach
    # the receiver below. Empty: the domain of MAIL_FROM.
    mail_reply_domain: str = ""
    # Where the receiver of customers' replies listens (SMTP, on BOT_HOST); empty: off.
    mail_inbound_port: int | None = Field(None, ge=1, le=65535)
    # Seconds an agent's reply may stay unseen before it is e-mailed; replies within this time
    # go out as one mail.
    email_continuity_delay: float = Field(180.0, ge=0)
    # The shop's name in the mails.
    shop_name: str = Field("", max_length=100)
    # The page where the customer continues the chat (a link in every mail); empty: no link.
    mail_chat_url: str = ""
    # Larger incoming mails are refused (bytes).
    mail_max_bytes: int = Field(1_000_000, ge=10_000, le=50_000_000)

    @field_validator("smtp_port", "mail_inbound_port", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _addresses_are_given(self) -> MailSettings:
        if self.smtp_host and "@" not in self.mail_from:
            raise ValueError("MAIL_FROM: the sender's address is needed when SMTP_HOST is set")
        if (self.smtp_host or self.mail_inbound_port) and "." not in self.reply_domain:
            raise ValueError("MAIL_REPLY_DOMAIN (or MAIL_FROM's domain) is needed for replies")
        return self

    @property
    def enabled(self) -> bool:
        """Whether mail goes out at all (and the bot asks customers for an address)."""
        return bool(self.smtp_host)

    @property
    def port(self) -> int:
        """SMTP_PORT, or the usual port of SMTP_SECURITY."""
        return self.smtp_port or {"none": 25, "starttls": 587, "tls": 465}[self.smtp_security]

    @property
    def reply_domain(self) -> str:
        """MAIL_REPLY_DOMAIN, else the domain of MAIL_FROM (empty when neither says)."""
        if self.mail_reply_domain:
            return self.mail_reply_domain.lower()
        _, _, domain = self.mail_from.rpartition("@")
        return domain.strip(" >").lower()
