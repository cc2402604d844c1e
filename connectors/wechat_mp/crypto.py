"""Signatures and the message encryption of WeChat's safe (and compatible) mode.

Every callback carries ``signature = sha1(sorted(token, timestamp, nonce))``; in safe mode the
envelope's ``Encrypt`` field is signed too (``msg_signature``). The encrypted text is
``base64(AES-256-CBC(random16 + len(msg) as 4 bytes big-endian + msg + app_id))`` with the key
``base64decode(EncodingAESKey + "=")``, the IV its first 16 bytes, and PKCS#7 padding to
**32-byte** blocks: padding runs from 1 to 32 bytes, not to 16 as generic AES helpers assume.

>>> crypto = MessageCrypto("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wx2c2769f8efd9abc2")
>>> crypto.decrypt(crypto.encrypt(b"<xml/>"))
b'<xml/>'
>>> sign("spamtest", "1409735669", "1320562132")
'16120ec1b8dbb870f510d87ce6bc2463eae6ca1a'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK_SIZE = 32  # WeChat's PKCS#7 block, twice AES's
ENCODING_AES_KEY_LENGTH = 43


class SignatureError(ValueError):
    """A signature does not match: the request is not from WeChat, or was altered."""


class DecryptionError(ValueError):
    """An ``Encrypt`` field that does not decrypt to a message for this app."""


def sign(token: str, *values: str) -> str:
    """WeChat's signature: the SHA-1 of the token and values, sorted and concatenated."""
    return hashlib.sha1("".join(sorted((token, *values))).encode("utf-8")).hexdigest()


def check_signature(signature: str | None, token: str, *values: str) -> None:
    """Raise :class:`SignatureError` unless ``signature`` signs ``values`` with ``token``."""
    expected = sign(token, *values)
    if not signature or not hmac.compare_digest(expected, signature.lower()):
        raise SignatureError("signature does not match")


def pkcs7_pad(data: bytes, block_size: int = BLOCK_SIZE) -> bytes:
    """Pad to a multiple of ``block_size`` with 1 to ``block_size`` bytes of their count."""
    count = block_size - len(data) % block_size
    return data + bytes([count]) * count


def pkcs7_unpad(data: bytes, block_size: int = BLOCK_SIZE) -> bytes:
    """Remove PKCS#7 padding, checking every padding byte."""
    if not data or len(data) % block_size:
        raise DecryptionError("decrypted length is not a whole number of blocks")
    count = data[-1]
    if not 1 <= count <= block_size or data[-count:] != bytes([count]) * count:
        raise DecryptionError("bad padding")
    return data[:-count]


class MessageCrypto:
    """Encrypts and decrypts message bodies for one Official Account.

    Args:
        encoding_aes_key: the 43-character EncodingAESKey from the account's settings.
        app_id: the account's AppID; decrypted messages must name it.
    """

    def __init__(self, encoding_aes_key: str, app_id: str) -> None:
        if len(encoding_aes_key) != ENCODING_AES_KEY_LENGTH:
            raise ValueError("EncodingAESKey must have 43 characters")
        try:
            self._key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except binascii.Error as exc:
            raise ValueError("EncodingAESKey is not base64") from exc
        self._app_id = app_id.encode("utf-8")

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def encrypt(self, message: bytes, random_prefix: bytes | None = None) -> str:
        """The base64 ``Encrypt`` text for ``message`` (``random_prefix``: 16 bytes, for tests)."""
        prefix = os.urandom(16) if random_prefix is None else random_prefix
        if len(prefix) != 16:
            raise ValueError("the random prefix must have 16 bytes")
        plain = pkcs7_pad(prefix + struct.pack(">I", len(message)) + message + self._app_id)
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")

    def decrypt(self, encrypted: str) -> bytes:
        """The message inside an ``Encrypt`` text; :class:`DecryptionError` if it is not one
        of ours (bad base64, length, padding, framing or app id)."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise DecryptionError("Encrypt is not base64") from exc
        if not data or len(data) % 16:
            raise DecryptionError("Encrypt is not a whole number of AES blocks")
        decryptor = self._cipher().decryptor()
        plain = pkcs7_unpad(decryptor.update(data) + decryptor.finalize())
        if len(plain) < 20:
            raise DecryptionError("message too short")
        (length,) = struct.unpack(">I", plain[16:20])
        message, app_id = plain[20 : 20 + length], plain[20 + length :]
        if len(message) != length:
            raise DecryptionError("message length does not match")
        if not hmac.compare_digest(app_id, self._app_id):
            raise DecryptionError("message is for another app id")
        return message
