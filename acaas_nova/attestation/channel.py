"""The authenticated agent channel (the chapter's trusted channel, 12.4.2).

At registration DC-S makes a random credential secret for the node's EK
and AK (TPM2_MakeCredential); only the TPM holding both recovers it with
ActivateCredential.  Both sides derive the node's *channel key* from it::

    K = HKDF-SHA256(secret, salt = none, info = LABEL || 0x00 || CID, 32)

The secret itself never crosses the wire: the agent proves it recovered
the secret with a MAC under K over its activation (:data:`ACTIVATE`),
so whoever only reads the broker learns neither.  DC-S keeps K in its
database; DC-C keeps the secret sealed to PCRs 0-7 and re-derives K when
it unseals.

Every message after registration carries ``mac`` = HMAC-SHA256(K,
:func:`canonical`) over its method, the node identity, a freshness value
(DC-S's round nonce for answers and requests, a per-message counter for
unsolicited messages) and its arguments.  :func:`verify` refuses a
missing or wrong MAC with its own error; replay is refused by the caller
(nonces are single use, counters strictly increase per node).

Pure: standard library and ``cryptography`` only.
"""

import hmac
import json
import threading
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from acaas_nova.attestation import errors

LABEL = b"acaas-channel-key-v1"
DOMAIN = b"acaas-channel-msg-v1\x00"
KEY_BYTES = 32
MAC_HEX = 64
#: The method name of the activation proof (registration's second step).
ACTIVATE = "activate"
#: The argument that carries the MAC (never part of the MAC'd content).
MAC_FIELD = "mac"
#: Counters are integers that fit a signed 64-bit column.
MAX_COUNTER = (1 << 63) - 1


def derive_key(secret: bytes, cid: str) -> bytes:
    """The node's channel key from its credential secret and CID."""
    if not isinstance(secret, bytes | bytearray) or not secret:
        raise errors.MalformedInput(
            what="credential secret", reason="expected non-empty bytes"
        )
    if not isinstance(cid, str) or not cid:
        raise errors.MalformedInput(what="CID", reason="expected text")
    return HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=None,
        info=LABEL + b"\x00" + cid.encode("utf-8"),
    ).derive(bytes(secret))


def canonical(method: str, node: str, fresh, args: dict) -> bytes:
    """The bytes a MAC covers: one JSON text with sorted keys and no
    spaces, so both sides compute it from the values alone.

    ``fresh`` is the counter (int) or the DC-S nonce (hex or base64 text)
    the message answers; ``args`` its other arguments (JSON values; the
    ``mac`` field, if present, is left out).
    """
    if not isinstance(method, str) or not isinstance(node, str):
        raise errors.MalformedInput(
            what="channel message", reason="method and node must be text"
        )
    if isinstance(fresh, bool) or not isinstance(fresh, int | str):
        raise errors.MalformedInput(
            what="channel message", reason="freshness must be int or text"
        )
    if not isinstance(args, dict):
        raise errors.MalformedInput(
            what="channel message", reason="arguments must be a mapping"
        )
    body = {k: v for k, v in args.items() if k != MAC_FIELD}
    try:
        text = json.dumps(
            {"m": method, "n": node, "f": fresh, "a": body},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=True,
            allow_nan=False,
        )
    except (TypeError, ValueError) as exc:
        raise errors.MalformedInput(
            what="channel message", reason="not JSON: %s" % exc
        ) from None
    return DOMAIN + text.encode("ascii")


def _key(key) -> bytes:
    if not isinstance(key, bytes | bytearray) or len(key) != KEY_BYTES:
        raise errors.ChannelError(reason="no channel key for this node")
    return bytes(key)


def mac(key: bytes, method: str, node: str, fresh, args: dict) -> str:
    """HMAC-SHA256 of the canonical message, as hex text."""
    return hmac.new(
        _key(key), canonical(method, node, fresh, args), "sha256"
    ).hexdigest()


def sign(key: bytes, method: str, node: str, fresh, args: dict) -> dict:
    """``args`` with its ``mac`` added (a new dict)."""
    out = dict(args)
    out[MAC_FIELD] = mac(key, method, node, fresh, args)
    return out


def verify(key: bytes, method: str, node: str, fresh, args: dict) -> None:
    """Check ``args[mac]``: ChannelMacMissing or ChannelMacInvalid if it
    is absent, malformed or not the MAC of this message under ``key``."""
    where = "%s from %s" % (method, node)
    if not isinstance(args, dict):
        raise errors.ChannelMacMissing(reason=where)
    given = args.get(MAC_FIELD)
    if given is None:
        raise errors.ChannelMacMissing(reason=where)
    if (
        not isinstance(given, str)
        or len(given) != MAC_HEX
        or not given.isascii()
    ):
        # compare_digest takes ASCII text only (TypeError otherwise).
        raise errors.ChannelMacInvalid(reason=where + ": malformed MAC")
    try:
        expected = mac(key, method, node, fresh, args)
    except errors.MalformedInput as exc:
        raise errors.ChannelMacInvalid(
            reason="%s: %s" % (where, exc.message)
        ) from None
    if not hmac.compare_digest(expected, given.lower()):
        raise errors.ChannelMacInvalid(reason=where)


def counter(value) -> int:
    """A received counter as an int in 1 .. MAX_COUNTER, or
    ChannelMacInvalid (a counter is part of what the MAC covers)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 0 < value <= MAX_COUNTER
    ):
        raise errors.ChannelMacInvalid(reason="bad message counter")
    return value


class Counter:
    """The sender's per-message counter: strictly increasing, also across
    restarts without state on disk (microseconds of the wall clock, or
    one more than the last value if the clock stands still or steps
    back)."""

    def __init__(self, clock=time.time_ns) -> None:
        self._clock = clock
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            self._last = max(self._last + 1, self._clock() // 1000)
            return self._last


def check_fresh(last: int | None, received: int) -> None:
    """ChannelReplay unless ``received`` is above the last accepted one
    (the in-memory form of the check DC-S makes in its database)."""
    if last is not None and received <= last:
        raise errors.ChannelReplay(
            reason="counter %d not above %d" % (received, last)
        )
