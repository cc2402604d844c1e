"""The mail section: off by default, the usual ports, and the addresses it cannot do without."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import Settings

SENDER = {"smtp_host": "smtp.shop.example", "mail_from": "Shop <support@shop.example>"}


def test_mail_is_off_until_smtp_host_is_set():
    settings = Settings(_env_file=None)
    assert not settings.mail.enabled and settings.mail.mail_inbound_port is None


@pytest.mark.parametrize(("security", "port"), [("none", 25), ("starttls", 587), ("tls", 465)])
def test_an_empty_port_is_the_usual_one_of_the_security(security, port):
    settings = Settings(**SENDER, smtp_security=security, smtp_port="", _env_file=None)
    assert settings.mail.port == port
    assert Settings(**SENDER, smtp_port=2525, _env_file=None).mail.port == 2525


def test_the_reply_domain_defaults_to_the_senders():
    assert Settings(**SENDER, _env_file=None).mail.reply_domain == "shop.example"
    chosen = Settings(**SENDER, mail_reply_domain="Reply.Shop.Example", _env_file=None)
    assert chosen.mail.reply_domain == "reply.shop.example"


def test_sending_without_a_sender_stops_the_start(monkeypatch):
    with pytest.raises(ValidationError, match="MAIL_FROM"):
        Settings(smtp_host="smtp.shop.example", _env_file=None)
    with pytest.raises(ValidationError, match="MAIL_REPLY_DOMAIN"):
        Settings(mail_inbound_port=2525, _env_file=None)
    with pytest.raises(ValidationError, match="smtp_security"):
        Settings(**SENDER, smtp_security="ssl", _env_file=None)


def test_the_password_stays_secret():
    settings = Settings(**SENDER, smtp_password="s3cret", _env_file=None)
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings.mail)
    assert settings.environment()["SMTP_PASSWORD"] == "s3cret"
