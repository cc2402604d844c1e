"""Known-answer tests of WeChat's signatures and message encryption, with public vectors.

Sources of the vectors (public test suites of other WeChat libraries):

- OFFICIAL: the sample of Tencent's WXBizMsgCrypt SDK (token ``spamtest``, AppID
  ``wx2c2769f8efd9abc2``), as copied in github.com/wegostudio/wego ``tests/crypto/tests.py``;
  its URL signature (``16120ec1...``) as used with the same sample in public tests of WeChat
  bots (the signature is recomputed here from its definition too).
- WECHATPY: github.com/wechatpy/wechatpy ``tests/test_crypto.py`` (the enterprise flavour of
  the same scheme: corp id in place of AppID), with the random prefix fixed to
  ``1234567890123456``.
- WE_WHISPER: github.com/he9qi/we_whisper ``spec/we_whisper/whisper_spec.rb``, random prefix
  ``HLFOQjbkfgUh46s8``: a 425-byte message whose PKCS#7 padding is 17 bytes, more than the 16
  that generic AES helpers allow.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from connectors.wechat_mp.crypto import (
    DecryptionError,
    MessageCrypto,
    SignatureError,
    check_signature,
    pkcs7_pad,
    pkcs7_unpad,
    sign,
)
from connectors.wechat_mp.messages import parse_fields

OFFICIAL_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OFFICIAL_APP_ID = "wx2c2769f8efd9abc2"
OFFICIAL_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQ"
    "HFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tE"
    "DYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3y"
    "ZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl"
    "+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)

WECHATPY_TOKEN = "123456"
WECHATPY_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
WECHATPY_CORP_ID = "wx49f0ab532d5d035a"
WECHATPY_REPLY = (
    "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n"
    "<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n"
    "<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n"
    "<CreateTime>1411525903</CreateTime>\n</xml>"
)
WECHATPY_REPLY_ENCRYPT = (
    "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8"
    "GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPU"
    "L2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFu"
    "rDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFM"
    "NMpatF9XiKzHo3"
)
WECHATPY_INCOMING_ENCRYPT = (
    "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeD"
    "XzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolB"
    "ug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnY"
    "ZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5no"
    "Trb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0="
)

WE_WHISPER_MESSAGE = (
    "<xml><ToUserName><![CDATA[oia2TjjewbmiOUlr6X-1crbLOvLw]]></ToUserName><FromUserName><![CDATA["
    "gh_7f083739789a]]></FromUserName><CreateTime>1407743423</CreateTime><MsgType>  <![CDATA[video"
    "]]></MsgType><Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2Ed1KF3ul"
    "AOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></Title><Description><![CDATA["
    "testCallBackReplyVideo]]></Description></Video></xml>"
)
WE_WHISPER_ENCRYPT = (
    "3kKZ++U5ocvIF8dAHPct7xvUqEv6vplhuzA8Vwj7OnVcBu9fdmbbI41zclSfKqP6/bdYAxuE3x8jse43ImHaV07siJF473"
    "TsXhl8Yt8task0n9KC7BDA73mFTwlhYvuCIFnU6wFlzOkHyM5Bh2qpOHYk5nSMRyUG4BwmXpxq8TvLgJV1jj2DXdGW4qd"
    "knGLfJgDH5sCPJeBzNC8j8KtrJFxmG7qIwKHn3H5sqBf6UqhXFdbLuTWL3jwE7yMLhzOmiHi/MX/ZsVQ7sMuBiV6bW0wk"
    "gielESC3yNUPo4q/RMAFEH0fRLr76BR5Ct0nUbf9PdClc0RdlYcztyOs54X/KLbYRNCQ2kXxmJYL6ekdNe70PCAReIEfX"
    "Ep+pGpry4ss8bD6LKAtNvBJUwHshZe6sbf+fOiDiuKEqp1wdQLmgN+8nX62LklySWr8QrNCpsmKClxco0kbVYNX/QVh5y"
    "d0UA1sAqIn6baZ9G+Z/OXG+Q4n9lUuzLprLhDBPaCvXm4N14oqXNcw7tqU2xfhYNIDaD72djyIc/4eyAi2ZsJ+3hb+jgi"
    "ISR5WVveRWYYqGZGTW3u+27JiXEo0fs3DQDbGVIcYxaMgU/RRIDdXzZSFcf6Z1azjzCDyV9FFEsicghHn"
)


def official() -> MessageCrypto:
    return MessageCrypto(OFFICIAL_KEY, OFFICIAL_APP_ID)


def raw_padding(crypto_key: str, encrypted: str) -> int:
    """The PKCS#7 padding length inside a ciphertext, decrypted independently of our code."""
    key = base64.b64decode(crypto_key + "=")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    return plain[-1]


def test_url_signature_of_the_official_sample():
    expected = "16120ec1b8dbb870f510d87ce6bc2463eae6ca1a"
    assert sign("spamtest", "1409735669", "1320562132") == expected
    assert (
        expected
        == hashlib.sha1(b"".join(sorted([b"spamtest", b"1409735669", b"1320562132"]))).hexdigest()
    )
    check_signature(expected, "spamtest", "1409735669", "1320562132")
    check_signature(expected.upper(), "spamtest", "1409735669", "1320562132")


@pytest.mark.parametrize(
    "signature, nonce",
    [
        ("16120ec1b8dbb870f510d87ce6bc2463eae6ca1b", "1320562132"),
        (None, "1320562132"),
        ("", "x"),
        ("16120ec1b8dbb870f510d87ce6bc2463eae6ca1a", "1320562133"),
    ],
)
def test_wrong_signatures_are_refused(signature, nonce):
    with pytest.raises(SignatureError):
        check_signature(signature, "spamtest", "1409735669", nonce)


def test_official_sample_decrypts_with_its_msg_signature():
    check_signature(
        "5d197aaffba7e9b25a30732f161a50dee96bd5fa",
        "spamtest",
        "1409735669",
        "1320562132",
        OFFICIAL_ENCRYPT,
    )
    fields = parse_fields(official().decrypt(OFFICIAL_ENCRYPT))
    assert fields == {
        "ToUserName": "gh_10f6c3c3ac5a",
        "FromUserName": "oyORnuP8q7ou2gfYjqLzSIWZf0rs",
        "CreateTime": "1409735668",
        "MsgType": "text",
        "Content": "abcdteT",
        "MsgId": "6054768590064713728",
    }


def test_wechatpy_encryption_vector_with_its_signature():
    crypto = MessageCrypto(WECHATPY_KEY, WECHATPY_CORP_ID)
    encrypted = crypto.encrypt(WECHATPY_REPLY.encode(), random_prefix=b"1234567890123456")
    assert encrypted == WECHATPY_REPLY_ENCRYPT
    assert sign(WECHATPY_TOKEN, "1411525903", "461056294", encrypted) == (
        "407518b7649e86ef23978113f92d27afa9296533"
    )


def test_wechatpy_decryption_vector():
    check_signature(
        "74d92dfeb87ba7c714f89d98870ae5eb62dff26d",
        WECHATPY_TOKEN,
        "1411525903",
        "461056294",
        WECHATPY_INCOMING_ENCRYPT,
    )
    fields = parse_fields(
        MessageCrypto(WECHATPY_KEY, WECHATPY_CORP_ID).decrypt(WECHATPY_INCOMING_ENCRYPT)
    )
    assert (fields["FromUserName"], fields["Content"]) == ("messense", "test")


def test_padding_longer_than_16_bytes_both_ways():
    assert raw_padding(OFFICIAL_KEY, WE_WHISPER_ENCRYPT) == 17
    assert official().decrypt(WE_WHISPER_ENCRYPT) == WE_WHISPER_MESSAGE.encode()
    assert (
        official().encrypt(WE_WHISPER_MESSAGE.encode(), b"HLFOQjbkfgUh46s8") == WE_WHISPER_ENCRYPT
    )
    assert sign("spamtest", "1415979516", "1320562132", WE_WHISPER_ENCRYPT) == (
        "096d8cda45e4678ca23460f6b8cd281b3faf1fc3"
    )


def test_a_message_padded_to_16_byte_blocks_is_refused():
    """What generic AES helpers produce: a valid AES text, but not WeChat's framing."""
    key = base64.b64decode(OFFICIAL_KEY + "=")
    body = b"0123456789abcdef" + (6).to_bytes(4, "big") + b"<xml/>" + OFFICIAL_APP_ID.encode()
    padded = pkcs7_pad(body, 16)
    assert len(padded) % 32  # an odd number of 16-byte blocks
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    encrypted = base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()
    with pytest.raises(DecryptionError):
        official().decrypt(encrypted)


def test_a_message_for_another_app_is_refused():
    other = MessageCrypto(OFFICIAL_KEY, "wx0000000000000000")
    with pytest.raises(DecryptionError, match="another app id"):
        official().decrypt(other.encrypt(b"<xml/>"))


@pytest.mark.parametrize(
    "encrypted",
    ["not base64!", "", base64.b64encode(b"x" * 15).decode(), OFFICIAL_ENCRYPT[:-8] + "AAAAAAA="],
)
def test_garbage_is_refused_with_a_decryption_error(encrypted):
    with pytest.raises(DecryptionError):
        official().decrypt(encrypted)


@pytest.mark.parametrize("tail", [b"\x00", b"\x21", b"\x02\x03"])
def test_padding_bytes_are_all_checked(tail):
    with pytest.raises(DecryptionError):
        pkcs7_unpad(b"a" * (32 - len(tail)) + tail)


@pytest.mark.parametrize("key", ["short", "!" * 43])
def test_a_malformed_encoding_aes_key_is_refused_at_once(key):
    with pytest.raises(ValueError, match="EncodingAESKey"):
        MessageCrypto(key, OFFICIAL_APP_ID)


@given(st.binary(max_size=3000), st.binary(min_size=16, max_size=16))
def test_encryption_round_trips_and_pads_to_32_byte_blocks(message, prefix):
    encrypted = official().encrypt(message, prefix)
    assert len(base64.b64decode(encrypted)) % 32 == 0
    assert 1 <= raw_padding(OFFICIAL_KEY, encrypted) <= 32
    assert official().decrypt(encrypted) == message
