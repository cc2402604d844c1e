"""Widget conversations: the secret a browser holds, the conversation id derived from it, and
the pages allowed to hold one.

The widget keeps 128 random bits in the browser (its *session secret*) and sends them in
socket.io's ``session_request``. The conversation's sender id, which agents, logs, exports
and Rasa's tracker store see, is a digest of that secret, so knowing a conversation's id does
not let anyone join its socket.io room or read its history: only the secret does. Widget ids
also live in a namespace of their own (``web-``), apart from WeChat OpenIDs and REST ids.

>>> widget_sender_id("0123456789abcdef0123456789abcdef")
'web-8172f33704ee00579ab9238328eb5ff4'
>>> valid_secret("0123456789abcdef0123456789abcdef"), valid_secret("guess")
(True, False)

Browsers name the page a connection comes from in its ``Origin`` header; the socket.io channel
answers only the origins :func:`widget_origins` lists (the shop's pages and the demo page):

>>> widget_origins("https://Shop.example.com/, https://m.example.com:443", "http://127.0.0.1:8000")
['http://127.0.0.1:8000', 'http://localhost:8000', 'https://shop.example.com', 'https://m.example.com']
"""

from __future__ import annotations

import hashlib
import re
from typing import TypeGuard
from urllib.parse import urlsplit

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


DEFAULT_PORTS = {"http": 80, "https": 443}
LOOPBACK_TWINS = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}


def web_origin(value: str) -> str:
    """``value`` spelled as a browser's ``Origin`` header spells it: ``scheme://host[:port]``,
    in lower case, without the scheme's default port or a trailing slash.

    >>> web_origin("HTTPS://Shop.Example.com:443/")
    'https://shop.example.com'

    Raises:
        ValueError: not an http(s) origin (a path, a query, a user name, no host, ``*``).
    """
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        raise ValueError(f"{value!r} is not an origin like https://shop.example.com") from None
    if (
        parts.scheme.lower() not in DEFAULT_PORTS
        or not parts.hostname
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise ValueError(f"{value!r} is not an origin like https://shop.example.com")
    scheme = parts.scheme.lower()
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def origin_list(listed: str) -> list[str]:
    """The origins of a comma-separated list (``CORS_ALLOWED_ORIGINS``), each as
    :func:`web_origin` spells it; raises :class:`ValueError` naming the first bad one."""
    return [web_origin(part) for part in re.split(r"[,\s]+", listed) if part]


def widget_origins(listed: str, page_origin: str = "") -> list[str]:
    """The origins of the pages that may talk to the widget's channel: ``page_origin`` (the web
    service's, where the demo page is) and the comma-separated ``listed``; a loopback host
    brings its twin (``localhost`` and ``127.0.0.1`` are two origins to a browser).

    Raises:
        ValueError: an entry is not an origin (see :func:`web_origin`).
    """
    origins: list[str] = []
    for origin in origin_list(page_origin) + origin_list(listed):
        scheme, rest = origin.split("://", 1)
        host, _, port = rest.partition(":")
        twin = LOOPBACK_TWINS.get(host)
        for candidate in (origin, f"{scheme}://{twin}{':' + port if port else ''}" if twin else ""):
            if candidate and candidate not in origins:
                origins.append(candidate)
    return origins
