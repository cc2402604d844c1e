"""Widget conversations: the secret a browser holds, and the conversation id derived from it.

The widget keeps 128 random bits in the browser (its *session secret*) and sends them in
socket.io's ``session_request``. The conversation's sender id, which agents, logs, exports
and Rasa's tracker store see, is a digest of that secret, so knowing a conversation's id does
not let anyone join its socket.io room or read its history: only the secret does. Widget ids
also live in a namespace of their own (``web-``), apart from WeChat OpenIDs and REST ids.

>>> widget_sender_id("0123456789abcdef0123456789abcdef")
'web-8172f33704ee00579ab9238328eb5ff4'
>>> valid_secret("0123456789abcdef0123456789abcdef"), valid_secret("guess")
(True, False)
"""

from __future__ import annotations

import hashlib
import re
from typing import TypeGuard

SENDER_PREFIX = "web-"
_SECRET = re.compile(r"[0-9a-f]{32,64}")


def valid_secret(value: object) -> TypeGuard[str]:
    """Whether ``value`` can be a widget session secret: 32-64 lowercase hex digits, as the
    widget and the socket.io channel make them."""
    return isinstance(value, str) and _SECRET.fullmatch(value) is not None


def widget_sender_id(secret: str) -> str:
    """The conversation id of the widget session holding ``secret``."""
    digest = hashlib.sha256(b"widget-session:" + secret.encode("ascii")).hexdigest()
    return SENDER_PREFIX + digest[:32]
