"""A stand-in for the shop's SMTP server on loopback (``aiosmtpd``), which records what it
receives and answers as told: a temporary or permanent refusal, a connection lost during DATA,
STARTTLS or TLS with a self-signed certificate, a required login. ``rcpt_answers`` and
``data_answers`` hold answers to give instead of accepting, each once, in order.

>>> server = FakeSmtp(port=18410)  # doctest: +SKIP
>>> await server.start()  # doctest: +SKIP
>>> server.rcpt_answers.append("451 4.3.0 try later")  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import datetime
import random
import socket
import ssl
import tempfile
from collections import deque
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

PORTS = range(18400, 18500)  # the mail tests' own range


def free_port(ports: range = PORTS) -> int:
    """A port of ``ports`` nothing listens on now, chosen at random (a port just closed may
    linger in TIME_WAIT: like asyncio's servers, the probe reuses such an address)."""
    for port in random.sample(ports, len(ports)):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports}")


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class FakeSmtp:
    port: int
    host: str = "127.0.0.1"
    tls: ssl.SSLContext | None = None  # with starttls False: TLS from the first byte
    starttls: bool = False
    login: tuple[str, str] | None = None
    received: list[Received] = field(default_factory=list)
    rcpt_answers: deque[str] = field(default_factory=deque)
    data_answers: deque[str] = field(default_factory=deque)
    drop_during_data: int = 0  # that many DATA are received, then the connection is cut
    _server: asyncio.Server | None = None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_answers:
            return self.rcpt_answers.popleft()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_answers:
            return self.data_answers.popleft()
        mail_from = envelope.mail_from or ""
        self.received.append(
            Received(mail_from, list(envelope.rcpt_tos), envelope.original_content or b"")
        )
        if self.drop_during_data:
            self.drop_during_data -= 1
            assert server.transport is not None
            server.transport.abort()  # accepted, but the client never hears so
        return "250 2.0.0 queued"

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and self.login == (
            data.login.decode(),
            data.password.decode(),
        )
        return AuthResult(success=ok)

    def _protocol(self) -> SMTP:
        return SMTP(
            self,
            hostname="smtp.shop.example",
            tls_context=self.tls if self.starttls else None,
            require_starttls=self.starttls,
            authenticator=self._authenticate if self.login else None,
            auth_required=self.login is not None,
            # With TLS from the first byte aiosmtpd cannot tell; with STARTTLS it checks.
            auth_require_tls=self.starttls,
        )

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        implicit = self.tls if self.tls is not None and not self.starttls else None
        self._server = await loop.create_server(self._protocol, self.host, self.port, ssl=implicit)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


def self_signed(host: str = "127.0.0.1") -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server's TLS context with a fresh self-signed certificate for ``host``, and a client's
    context that trusts exactly that certificate."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    directory = Path(tempfile.mkdtemp(prefix="fake-smtp-"))
    (directory / "cert.pem").write_bytes(pem)
    (directory / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    client = ssl.create_default_context(cadata=pem.decode("ascii"))
    return server, client
