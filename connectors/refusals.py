"""How a channel tells the outbox that a message can never be delivered.

Agents' replies reach a channel through Rasa's HTTP API (see :mod:`bot.workers.delivery`). When the
channel refuses a message for good (WeChat: the customer has not written for 48 hours), its
output channel raises :class:`Undeliverable`; Rasa answers the API call with an error that
carries the exception's text, and the outbox reads the reason back with
:func:`undeliverable_reason` instead of retrying forever.

>>> undeliverable_reason(f"An unexpected error occurred. Error: {Undeliverable('too late')}")
'too late'
"""

from __future__ import annotations

import re

_MARK = "undeliverable"
_PATTERN = re.compile(rf"\[{_MARK}\] (.*?) \[/{_MARK}\]", re.DOTALL)


class Undeliverable(Exception):
    """The channel refused the message for good: trying again cannot deliver it."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"[{_MARK}] {reason} [/{_MARK}]")
        self.reason = reason


def undeliverable_reason(error_text: str) -> str | None:
    """The reason an :class:`Undeliverable` carried through ``error_text``, if it did."""
    found = _PATTERN.search(error_text or "")
    return found.group(1) if found else None
