"""The settings: one model in sections, read from flat variables, handed to child processes whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import ServerSettings, Settings

# A value unlike the default for every setting, as its variable would give it: a variable the
# model failed to read, or to write back, would leave a default and break the round trip.
CHOSEN = {
    "host": "127.0.0.2",
    "rasa_port": "15005",
    "action_port": "15055",
    "web_port": "18000",
    "public_rasa_url": "https://chat.example.com",
    "rasa_api_token": "api-token",
    "rest_channel_token": "rest-token",
    "action_server_token": "action-token",
    "max_message_chars": "500",
    "rasa_proxies_count": "1",
    "cors_allowed_origins": "https://shop.example.com, https://m.shop.example.com",
    "rasa_model": "models/chosen.tar.gz",
    "rasa_venv": "/opt/rasa-venv",
    "credentials_file": "etc/credentials.yml",
    "endpoints_file": "etc/endpoints.yml",
    "run_dir": "/tmp/run",
    "startup_timeout": "120.5",
    "probe_interval": "0.5",
    "probe_timeout": "1.5",
    "probe_failures": "4",
    "restart_limit": "2",
    "restart_window": "60",
    "rasa_standby": "false",
    "actions_standby": "false",
    "cluster_replicas": "3",
    "database_url": "postgresql://shop:pw@127.0.0.1:5432/shop",
    "tracker_store_url": "postgresql://shop:pw@127.0.0.1:5432/trackers",
    "event_broker_url": "amqp://guest:guest@127.0.0.1:5672/",
    "event_queue": "events",
    "ingest_interval": "1.25",
    "ingest_batch": "50",
    "ingest_stall_seconds": "90",
    "trusted_proxies": "10.0.0.1, 10.0.1.0/24 fd00::/8",
    "cookie_secure": "true",
    "admin_username": "root",
    "admin_password": "admin-password",
    "agents_may_publish_faq": "true",
    "faq_sources": "/srv/faq",
    "widget_greeting": "Hi! Ask us anything.",
    "widget_greeting_zh": "您好！有什么可以帮您？",
    "widget_prechat_form": "true",
    "escalate_after_not_found": "3",
    "business_hours": "Mon-Fri 09:00-18:00",
    "business_timezone": "Europe/Berlin",
    "agent_online_seconds": "30",
    "tickets_per_conversation_per_hour": "2",
    "tickets_per_address_per_hour": "7",
    "first_response_target": "120",
    "auto_assign": "false",
    "agent_ticket_limit": "3",
    "identity_secret": "identity-secret",
    "redact_pii": "true",
    "retention_days": "30",
    "wechat_token": "wx-token",
    "wechat_app_id": "wx123",
    "wechat_app_secret": "wx-secret",
    "wechat_encoding_aes_key": "k" * 43,
    "wechat_api_base_url": "http://127.0.0.1:9999",
    "wechat_replay_window": "60",
    "wechat_reply_deadline": "3.5",
    "redis_url": "redis://127.0.0.1:6379/1",
    "smtp_host": "smtp.example.com",
    "smtp_port": "2525",
    "smtp_username": "mailer",
    "smtp_password": "smtp-password",
    "smtp_security": "tls",
    "mail_from": "Shop <support@shop.example.com>",
    "mail_reply_domain": "reply.shop.example.com",
    "mail_inbound_port": "2526",
    "email_continuity_delay": "60",
    "shop_name": "Example Shop",
    "mail_chat_url": "https://shop.example.com/help",
    "mail_max_bytes": "200000",
}


@pytest.fixture()
def environ(monkeypatch):
    """An environment without any setting's variable (``make test`` exports RASA_MODEL)."""
    for variable in Settings.variables().values():
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


def test_every_setting_is_chosen_here():
    assert set(CHOSEN) == set(Settings.variables())


def test_a_child_reading_the_environment_gets_equal_settings(environ):
    parent = Settings(**CHOSEN, _env_file=None)
    assert parent != Settings(_env_file=None)  # the chosen values are not the defaults
    for variable, value in parent.environment().items():
        environ.setenv(variable, value)
    assert Settings(_env_file=None) == parent


def test_a_child_gets_the_random_tokens_made_at_start(environ):
    parent = Settings(_env_file=None)
    for variable, value in parent.environment().items():
        environ.setenv(variable, value)
    child = Settings(_env_file=None)
    assert child == parent
    assert child.rasa.rasa_api_token.get_secret_value() != ""


def test_each_variable_reaches_its_section(environ):
    for name, value in CHOSEN.items():
        environ.setenv(Settings.variable(name), value)
    settings = Settings(_env_file=None)
    assert settings.servers.web_url == "http://127.0.0.2:18000"
    assert settings.supervision.rasa_model == Path("models/chosen.tar.gz")
    assert settings.database.database_url == CHOSEN["database_url"]
    assert settings.web.trusted_proxies[-1].compressed == "fd00::/8"
    assert settings.handoff.hours.timezone.key == "Europe/Berlin"
    assert settings.privacy.redact_pii is True
    assert settings.wechat.wechat_reply_deadline == 3.5


def test_keywords_beat_the_environment_which_beats_the_env_file(environ, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "WEB_PORT=9001\nRASA_PORT=9002\nACTION_PORT=9003\nFAQ_INDEX_DIR=elsewhere\n"
    )
    environ.setenv("RASA_PORT", "9102")
    environ.setenv("ACTION_PORT", "9103")
    settings = Settings(action_port=9203, _env_file=env_file)
    assert (settings.servers.web_port, settings.servers.rasa_port) == (9001, 9102)
    assert settings.servers.action_port == 9203


def test_a_section_given_whole_beats_the_environment(environ):
    environ.setenv("WEB_PORT", "9100")
    settings = Settings(servers=ServerSettings(rasa_port=9005), _env_file=None)
    assert (settings.servers.web_port, settings.servers.rasa_port) == (8000, 9005)


def test_a_misspelt_setting_is_refused_without_echoing_the_secrets(environ):
    with pytest.raises(ValidationError, match="'web_prot' is not a setting") as refused:
        Settings(web_prot=8123, identity_secret="do-not-print-me", _env_file=None)
    assert "do-not-print-me" not in str(refused.value)


@pytest.mark.parametrize(
    ("name", "value", "where"),
    [
        ("rasa_proxies_count", "-1", "rasa.rasa_proxies_count"),
        ("wechat_reply_deadline", "5", "wechat.wechat_reply_deadline"),
        ("probe_failures", "0", "supervision.probe_failures"),
        ("ingest_batch", "many", "ingestion.ingest_batch"),
    ],
)
def test_a_bad_value_is_refused_naming_its_section(environ, name, value, where):
    environ.setenv(Settings.variable(name), value)
    with pytest.raises(ValidationError, match=where):
        Settings(_env_file=None)


def test_sections_are_frozen():
    settings = Settings(_env_file=None)
    with pytest.raises(ValidationError):
        settings.servers.web_port = 1  # type: ignore[misc]
