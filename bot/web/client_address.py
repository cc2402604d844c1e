"""The client's address behind trusted reverse proxies (nginx, HAProxy, a load balancer).

Behind a proxy every request comes from the proxy's address, so limits per address (sign-ins,
the widget's history) would count every client as one. A proxy appends the address it got the
request from to ``X-Forwarded-For``; each hop appends its own peer, so the header reads
``client, proxy1, proxy2`` and only the entries written by proxies we trust are believed.

:func:`client_address` reads the header only when the peer itself is trusted
(``TRUSTED_PROXIES``), and walks it from the right, skipping trusted hops: the first untrusted
address is the client (whatever a client wrote further left is ignored, so it cannot choose
its own address). A header that is missing, empty or malformed where it matters leaves the
peer's address. :func:`forwarded_middleware` gives every handler that address as
``request.remote``.

>>> trusted = trusted_networks(["10.0.0.0/8"])
>>> client_address("10.0.0.2", ["198.51.100.9, 203.0.113.7, 10.0.0.1"], trusted)
'203.0.113.7'
>>> client_address("192.0.2.1", ["203.0.113.7"], trusted)  # not a proxy of ours: ignored
'192.0.2.1'
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable, Sequence

from aiohttp import hdrs, web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# More hops than any real chain of proxies: only the rightmost ones are read.
MAX_HOPS = 32


def trusted_networks(entries: Iterable[str | Network]) -> tuple[Network, ...]:
    """The networks of ``entries`` (addresses or CIDRs: ``"10.0.0.1"``, ``"fd00::/8"``).

    Raises:
        ValueError: an entry is not an address or a network.
    """
    return tuple(
        entry if isinstance(entry, Network) else ipaddress.ip_network(entry.strip())
        for entry in entries
    )


def _parse(text: str) -> Address | None:
    """An address as a proxy writes it (``"203.0.113.7"``, ``"2001:db8::1"``,
    ``"[2001:db8::1]"``), or None for anything else (ports, names, ``unknown``, garbage)."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:10.0.0.1 from a dual-stack socket is 10.0.0.1
    return address


def _trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]
) -> str | None:
    """The client's address: ``peer``, or what trusted proxies say in ``X-Forwarded-For``.

    Args:
        peer: the address of the connection's other end (``request.remote``; None or a
            path for a Unix socket).
        forwarded_for: every ``X-Forwarded-For`` header of the request, in order (several
            headers are one comma-separated list).
        trusted: the proxies' networks (:func:`trusted_networks`).

    Returns:
        The rightmost address in the header that is not a trusted proxy, when ``peer`` is
        one; the leftmost of the last :data:`MAX_HOPS` when every one is trusted; ``peer`` when
        it is not a trusted proxy, when the header is missing or empty, or when an entry right
        of the client's is not a bare address (a port, a name, ``unknown``).
    """
    peer_address = _parse(peer) if peer else None
    if peer_address is None or not _trusted(peer_address, trusted):
        return peer
    hops = [hop for header in forwarded_for for hop in header.split(",")]
    found: Address | None = None
    for hop in reversed(hops[-MAX_HOPS:]):  # the left part is the client's to write anyway
        found = _parse(hop)
        if found is None:
            return peer  # a proxy of ours wrote something that is not an address
        if not _trusted(found, trusted):
            return str(found)
    return str(found) if found is not None else peer


def forwarded_middleware(trusted: Sequence[Network]) -> Callable:
    """A middleware that makes ``request.remote`` the client's address (:func:`client_address`)
    for every handler and middleware after it; put it first."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        remote = client_address(
            request.remote, request.headers.getall(hdrs.X_FORWARDED_FOR, []), trusted
        )
        if remote is not None and remote != request.remote:
            request = request.clone(remote=remote)
        return await handler(request)

    return middleware
