"""The console's names for stored codes (a ticket's status, channel, handoff reason) and for
customers without a name, in the agent's language.

>>> from bot.web.console.i18n import translations
>>> _ = translations("zh").gettext
>>> status_label("open", _), channel_label("wechat", _), customer_name(None, 196, _)
('待处理', '微信', '访客 196')
>>> customer_name("Li Lei", 7, _), channel_label("carrier-pigeon", _)
('Li Lei', 'carrier-pigeon')
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jinja2

from bot.web.console.dashboard_charts import REASONS
from bot.web.console.i18n import N_, language_of, translations

Translate = Callable[[str], str]

STATUSES = {"open": N_("Open"), "assigned": N_("Assigned"), "resolved": N_("Resolved")}
CHANNELS = {"socketio": N_("Web chat"), "wechat": N_("WeChat"), "rest": N_("API")}
MAIL_STATES = {  # a continuation mail's state (bot.domain.mail.continuation)
    "waiting": N_("waits: sent unless the customer sees the reply in the chat"),
    "sending": N_("being sent"),
    "sent": N_("sent"),
    "failed": N_("not delivered"),
    "cancelled": N_("not needed"),
}
VISITOR = N_("Visitor %(id)d")


def status_label(status: str, _: Translate) -> str:
    return _(STATUSES[status]) if status in STATUSES else status


def channel_label(channel: str | None, _: Translate) -> str:
    if not channel:
        return ""
    return _(CHANNELS[channel]) if channel in CHANNELS else channel


def reason_label(reason: str, _: Translate) -> str:
    return _(REASONS[reason]) if reason in REASONS else reason


def mail_state_label(state: str, _: Translate) -> str:
    return _(MAIL_STATES[state]) if state in MAIL_STATES else state


def customer_name(name: str | None, customer_id: int, _: Translate) -> str:
    """The customer's name, or a readable stand-in with their number ("Visitor 196")."""
    return name or _(VISITOR) % {"id": customer_id}


def _translate(context: jinja2.runtime.Context) -> Translate:
    return translations(language_of(context)).gettext


@jinja2.pass_context
def _status_filter(context: jinja2.runtime.Context, status: str) -> str:
    return status_label(status, _translate(context))


@jinja2.pass_context
def _channel_filter(context: jinja2.runtime.Context, channel: str | None) -> str:
    return channel_label(channel, _translate(context))


@jinja2.pass_context
def _reason_filter(context: jinja2.runtime.Context, reason: str) -> str:
    return reason_label(reason, _translate(context))


@jinja2.pass_context
def _mail_state_filter(context: jinja2.runtime.Context, state: str) -> str:
    return mail_state_label(state, _translate(context))


@jinja2.pass_context
def _customer_filter(context: jinja2.runtime.Context, customer: dict[str, Any]) -> str:
    return customer_name(customer.get("name"), customer.get("id", 0), _translate(context))


# Template filters: {{ t.status|status_label }}, {{ t.customer|customer_name }}, ...
FILTERS = {
    "status_label": _status_filter,
    "channel_label": _channel_filter,
    "reason_label": _reason_filter,
    "mail_state_label": _mail_state_filter,
    "customer_name": _customer_filter,
}
