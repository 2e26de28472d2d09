"""What travels between DC-C and DC-S, and its validation.

oslo.messaging carries JSON, so binary TPM structures travel as base64
text and PCR indices as decimal strings.  Everything received is checked
here before use: types, encodings, sizes (``[dcs] max_message_bytes`` for a
whole message).  An IMA log too large for one answer travels in chunks of
complete lines (``[dcc] max_log_bytes`` each): every answer but the last
says ``ima_more``.  A bad message raises
:class:`~dc_agents.errors.MalformedMessage` or
:class:`~dc_agents.errors.MessageTooLarge` naming what was wrong.
"""

import base64
import binascii
import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from dc_agents import errors

#: Upper bounds of single fields (bytes after decoding).
MAX_TPM_STRUCT = 4096
MAX_CERTIFICATE = 16384
MAX_NAME = 255
MAX_NONCE = 64
PCR_BANKS = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}


def encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def decode(value: Any, what: str, limit: int = MAX_TPM_STRUCT) -> bytes:
    """Bytes from base64 text, refusing non-text, bad base64, oversize."""
    if not isinstance(value, str):
        raise errors.MalformedMessage(what=what, reason="not a string")
    if len(value) > (limit + 2) // 3 * 4:
        raise errors.MalformedMessage(
            what=what, reason="longer than %d bytes" % limit
        )
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise errors.MalformedMessage(what=what, reason="not base64") from None
    if len(raw) > limit:
        raise errors.MalformedMessage(
            what=what, reason="longer than %d bytes" % limit
        )
    return raw


def text(
    value: Any,
    what: str,
    limit: int = MAX_NAME,
    empty: bool = False,
    printable: bool = True,
) -> str:
    """A string argument of at most ``limit`` characters (printable ones
    only, unless ``printable`` is false: names end up in one-line
    messages and logs)."""
    if not isinstance(value, str) or (not value and not empty):
        raise errors.MalformedMessage(
            what=what, reason="not a non-empty string"
        )
    if len(value) > limit:
        raise errors.MalformedMessage(
            what=what, reason="longer than %d characters" % limit
        )
    if printable and not value.isprintable():
        raise errors.MalformedMessage(
            what=what, reason="contains control characters"
        )
    return value


def node_identity(args: Mapping[str, Any]) -> tuple[str, str | None]:
    """(host, hypervisor_hostname or None) of a request's arguments,
    checked (MalformedMessage)."""
    host = text(args.get("host"), "host")
    hv = args.get("hypervisor_hostname")
    if hv is not None:
        hv = text(hv, "hypervisor_hostname")
    return host, hv


def integer(value: Any, what: str, low: int = 0, high: int = 2**31) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise errors.MalformedMessage(what=what, reason="not an integer")
    if not low <= value <= high:
        raise errors.MalformedMessage(
            what=what, reason="%d outside %d-%d" % (value, low, high)
        )
    return value


def _json_bound(value: Any) -> float:
    """An upper bound of the length of ``value``'s JSON text (infinite
    for what JSON may not take, so the exact check names it).  Every
    character may be escaped (``\\uXXXX``, twice beyond the BMP): 12
    bytes each.  Leaves are counted inline: only containers recurse."""
    kind = type(value)
    if kind is str:
        return 12 * len(value) + 2
    if kind is dict:
        if set(map(type, value)) - {str}:
            return float("inf")  # JSON quotes other keys: not bounded here
        # Keys: quotes, colon and comma besides their characters.
        total = 2 + 12 * sum(map(len, value)) + 4 * len(value)
        items = value.values()
    elif kind is list or kind is tuple:
        total = 2 + len(value)  # brackets and commas
        items = value
    else:
        items = (value,)
        total = 0
    for item in items:
        kind = type(item)
        if kind is str:
            total += 12 * len(item) + 2
        elif item is None or kind is bool:
            total += 5
        elif kind is int and -(10**18) < item < 10**18:
            total += 20
        elif kind is dict or kind is list or kind is tuple:
            total += _json_bound(item)
        else:
            return float("inf")  # floats and the rest: the exact check
    return total


def check_size(args: Mapping[str, Any], what: str, limit: int) -> None:
    """Refuse a message whose JSON text exceeds ``limit`` bytes."""
    if _json_bound(args) <= limit:
        return  # the usual answer: far below the limit, not encoded
    try:
        size = len(json.dumps(args, separators=(",", ":")))
    except (TypeError, ValueError):
        raise errors.MalformedMessage(
            what=what, reason="not JSON-serialisable"
        ) from None
    if size > limit:
        raise errors.MessageTooLarge(what=what, size=size, limit=limit)


def encode_pcrs(pcrs: Mapping[str, Mapping[int, bytes]]) -> dict:
    return {
        bank: {str(i): v.hex() for i, v in values.items()}
        for bank, values in pcrs.items()
    }


#: The wire form of each PCR index (canonical decimal text).
_PCR_INDEX = {str(i): i for i in range(24)}


def _decode_bank(values: Any, size: int) -> dict | None:
    """A bank's values in canonical wire form decoded at once; None for
    anything else (decode_pcrs then names what is wrong)."""
    if type(values) is not dict:
        return None
    indices = list(map(_PCR_INDEX.get, values))
    texts = list(values.values())
    if (
        None in indices
        or set(map(type, texts)) != {str}
        or set(map(len, texts)) != {2 * size}
    ):
        return None
    try:
        raw = bytes.fromhex("".join(texts))
    except ValueError:
        return None
    # fromhex skips whitespace: equal lengths mean there was none, so
    # each value is exactly its own ``size`` bytes.
    if len(raw) != size * len(texts):
        return None
    return {
        index: raw[n * size : (n + 1) * size]
        for n, index in enumerate(indices)
    }


def decode_pcrs(value: Any, what: str = "PCR values") -> dict:
    """bank -> {index: bytes} from the wire form, strictly."""
    if not isinstance(value, dict) or not value:
        raise errors.MalformedMessage(what=what, reason="not a mapping")
    if len(value) == 1:
        ((bank, values),) = value.items()
        size = PCR_BANKS.get(bank)
        fast = _decode_bank(values, size) if size else None
        if fast is not None:
            return {bank: fast}
    out: dict[str, dict[int, bytes]] = {}
    for bank, values in value.items():
        size = PCR_BANKS.get(bank)
        if size is None or not isinstance(values, dict):
            raise errors.MalformedMessage(
                what=what, reason="unknown bank %r" % str(bank)[:20]
            )
        out[bank] = {}
        for index, hexvalue in values.items():
            # ASCII digits only: str.isdigit also takes "²", which int()
            # refuses with a ValueError.
            if not (
                isinstance(index, str)
                and index.isascii()
                and index.isdigit()
                and 0 <= int(index) <= 23
            ):
                raise errors.MalformedMessage(
                    what=what, reason="bad PCR index %r" % str(index)[:8]
                )
            try:
                raw = bytes.fromhex(hexvalue)
            except (TypeError, ValueError):
                raw = b""
            if len(raw) != size:
                raise errors.MalformedMessage(
                    what=what,
                    reason="%s PCR %s is not %d bytes of hex"
                    % (bank, index, size),
                )
            if int(index) in out[bank]:
                # "7" and "07": one PCR reported twice.
                raise errors.MalformedMessage(
                    what=what,
                    reason="%s PCR %d reported twice" % (bank, int(index)),
                )
            out[bank][int(index)] = raw
    return out


@dataclasses.dataclass(frozen=True)
class QuoteAnswer:
    """A DC-C's answer to an attestation request, validated."""

    cid: str
    attest: bytes
    signature: bytes
    pcrs: dict[str, dict[int, bytes]]
    ima_log: str
    ima_offset: int
    domain: str | None
    #: More entries follow: ``ima_log`` is one chunk of a longer log.
    ima_more: bool = False


def quote_answer(
    cid: str,
    attest: bytes,
    signature: bytes,
    pcrs: Mapping[str, Mapping[int, bytes]],
    ima_log: str,
    ima_offset: int,
    domain: str | None,
    ima_more: bool = False,
) -> dict:
    """The wire form of a DC-C's answer (``ima_more``: ``ima_log`` holds
    only the first entries from ``ima_offset`` on, more follow)."""
    return {
        "cid": cid,
        "attest": encode(attest),
        "signature": encode(signature),
        "pcrs": encode_pcrs(pcrs),
        "ima_log": ima_log,
        "ima_offset": ima_offset,
        "domain": domain,
        "ima_more": ima_more,
    }


def flag(value: Any, what: str) -> bool:
    """A boolean argument (not 0/1, not a string)."""
    if not isinstance(value, bool):
        raise errors.MalformedMessage(what=what, reason="not a boolean")
    return value


def parse_quote_answer(answer: Any, limit: int) -> QuoteAnswer:
    """Validate a DC-C's answer (size first, then every field).

    ``ima_more`` may be absent (an agent that never sends chunks): False.
    """
    what = "attestation answer"
    if not isinstance(answer, dict):
        raise errors.MalformedMessage(what=what, reason="not a mapping")
    check_size(answer, what, limit)
    expected = {
        "cid",
        "attest",
        "signature",
        "pcrs",
        "ima_log",
        "ima_offset",
        "domain",
        "ima_more",
    }
    if set(answer) != expected and set(answer) != expected - {"ima_more"}:
        unknown = sorted(repr(k)[:20] for k in set(answer) - expected)
        missing = sorted(expected - set(answer) - {"ima_more"})
        raise errors.MalformedMessage(
            what=what,
            reason="unexpected fields %s, missing %s"
            % (", ".join(unknown) or "none", ", ".join(missing) or "none"),
        )
    domain = answer["domain"]
    return QuoteAnswer(
        cid=text(answer["cid"], "CID", 64),
        attest=decode(answer["attest"], "quote attestation data"),
        signature=decode(answer["signature"], "quote signature"),
        pcrs=decode_pcrs(answer["pcrs"]),
        ima_log=text(
            answer["ima_log"], "IMA log", limit, empty=True, printable=False
        ),
        ima_offset=integer(answer["ima_offset"], "IMA log offset"),
        domain=None if domain is None else text(domain, "domain"),
        ima_more=flag(answer.get("ima_more", False), "IMA log continuation"),
    )
