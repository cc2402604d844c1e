"""The words of the console's script (``static/console.js``), which reads them from the page.

Each key is what the script asks for (``t("reply_sent")``); each value a message of the
catalogue (:mod:`bot.web.console.i18n`), with ``%(name)s``/``%(name)d`` placeholders the
script fills in.

>>> client_text("zh")["reply_sent"], client_text("en")["reply_sent"]
('回复已发送。', 'Reply sent.')
"""

from __future__ import annotations

from bot.web.console import timefmt
from bot.web.console.i18n import N_, translations

MESSAGES = {
    # relative times and waits (the same as the server's: bot/web/console/timefmt.py)
    "just_now": timefmt.JUST_NOW,
    "minutes_ago": timefmt.MINUTES_AGO,
    "hours_ago": timefmt.HOURS_AGO,
    "days_ago": timefmt.DAYS_AGO,
    "minutes": timefmt.MINUTES,
    "hours_minutes": timefmt.HOURS_MINUTES,
    "days_hours": timefmt.DAYS_HOURS,
    # the header
    "online": N_("Online"),
    "away": N_("Away"),
    "notifications_blocked": N_(
        "The browser blocks notifications for this site: allow them in its site settings."
    ),
    "new_ticket_title": N_("New ticket"),
    "new_ticket_body": N_("Ticket %(id)s is waiting for an agent."),
    "new_message_title": N_("The customer wrote in ticket %(id)s"),
    "no_next_ticket": N_("No other ticket waits."),
    # a ticket
    "reply_sent": N_("Reply sent."),
    "reply_empty": N_("Write a reply first."),
    "claimed": N_("Claimed."),
    "resolved": N_("Resolved."),
    "reopened": N_("Reopened."),
    "assigned": N_("Assigned."),
    "note_added": N_("Note added."),
    "could_not": N_("That did not work: %(error)s"),
    "insert": N_("Insert"),
    "nothing_found": N_("Nothing found."),
    "search_failed": N_("Search failed: %(error)s"),
    "adding": N_("Adding and rebuilding the index…"),
    "added": N_("Added to %(entry)s; the bot uses it from index %(version)s."),
    "could_not_add": N_("Could not add: %(error)s"),
}


def client_text(language: str) -> dict[str, str]:
    """The script's words in ``language``."""
    _ = translations(language).gettext
    return {key: _(message) for key, message in MESSAGES.items()}
