"""Argument checks at the boundary of the verification core.

The public verification functions (quote, IMA, registration, EK
certificates) are called with what arrived in a message: any JSON-ish
value, of any size.  These helpers turn such a value into the exact type a
parser expects, or raise :class:`~acaas_nova.attestation.errors.
MalformedInput` saying what was wrong, so that ``TypeError``,
``AttributeError`` and friends never escape.  They also accept the forms
third-party tools produce: nonces as hex text, PCR values as hex text and
PCR indices as decimal strings (JSON object keys).

Pure: standard library only.
"""

import datetime
from collections.abc import Iterable
from collections.abc import Mapping

from acaas_nova.attestation import errors
from acaas_nova.attestation import tpm_structs as ts

#: Larger than any TPM structure we parse (TPM2B sizes are u16).
MAX_TPM_BLOB = 1 << 16
#: Larger than any certificate or CA bundle we accept.
MAX_CERTIFICATE = 1 << 16
MAX_BUNDLE = 1 << 22
#: TPM2B_DATA of a quote holds at most 64 bytes (sizeof TPMT_HA).
MAX_NONCE = 64
_HEX = frozenset("0123456789abcdefABCDEF")
_BYTES = (bytes, bytearray, memoryview)


def bad(what: str, reason: str) -> errors.MalformedInput:
    return errors.MalformedInput(what=what, reason=reason)


def blob(value, what: str, max_size: int = MAX_TPM_BLOB) -> bytes:
    """``value`` as bytes (bytes, bytearray or memoryview), size-capped."""
    if not isinstance(value, _BYTES):
        raise bad(what, "expected bytes, got %s" % type(value).__name__)
    value = bytes(value)
    if len(value) > max_size:
        raise bad(
            what, "%d bytes exceeds the limit of %d" % (len(value), max_size)
        )
    return value


def hex_or_bytes(value, what: str, max_size: int) -> bytes:
    """Bytes, or text of hex digits (optional ``0x``) decoded to bytes."""
    if isinstance(value, str):
        text = value.strip()
        if text[:2] in ("0x", "0X"):
            text = text[2:]
        if len(text) > 2 * max_size:
            raise bad(what, "longer than %d bytes" % max_size)
        if len(text) % 2 or not _HEX.issuperset(text):
            raise bad(what, "text is not an even number of hex digits")
        return bytes.fromhex(text)
    return blob(value, what, max_size)


def nonce(value) -> bytes:
    """A quote nonce: 1-64 bytes, given as bytes or as hex text."""
    result = hex_or_bytes(value, "nonce", MAX_NONCE)
    if not result:
        raise bad("nonce", "empty")
    return result


def text_or_bytes(value, what: str, max_size: int) -> str | bytes:
    """A str or bytes-like value (size-capped); bytes-likes become bytes."""
    if isinstance(value, str):
        if len(value) > max_size:
            raise bad(what, "longer than %d characters" % max_size)
        return value
    return blob(value, what, max_size)


def bank_name(value, what: str = "PCR bank") -> str:
    if not isinstance(value, str) or value not in ts.HASH_SIZES:
        raise bad(
            what,
            "%r is not one of %s"
            % (_short(value), ", ".join(sorted(ts.HASH_SIZES))),
        )
    return value


def pcr_index(value, what: str = "PCR index") -> int:
    """0-23, as an int or a decimal string (JSON object keys are text)."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value) if len(value) <= 2 else -1
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(what, "%r is not a PCR number" % _short(value))
    if not 0 <= value <= 23:
        raise bad(what, "%d is out of range 0-23" % value)
    return value


def _canonical_bank(bank, values) -> dict | None:
    """A copy of ``values`` if it is already canonical (a dict of int
    PCR numbers to bytes of the bank's size), else None."""
    size = ts.HASH_SIZES.get(bank) if type(bank) is str else None
    if size is None or type(values) is not dict or not values:
        return None
    if (
        set(map(type, values)) != {int}
        or min(values) < 0
        or max(values) > 23
        or set(map(type, values.values())) != {bytes}
        or set(map(len, values.values())) != {size}
    ):
        return None
    return dict(values)


def pcr_values(value, what: str = "PCR values") -> dict[str, dict[int, bytes]]:
    """Bank -> index -> value (bytes or hex text of the bank's size)."""
    if not isinstance(value, Mapping):
        raise bad(what, "expected a mapping bank -> {PCR: value}")
    if len(value) > len(ts.HASH_SIZES):
        raise bad(what, "%d banks is too many" % len(value))
    out: dict[str, dict[int, bytes]] = {}
    for bank, values in value.items():
        fast = _canonical_bank(bank, values)
        if fast is not None:
            out[bank] = fast
            continue
        bank = bank_name(bank)
        if not isinstance(values, Mapping):
            raise bad(what, "bank %s: expected a mapping PCR -> value" % bank)
        if len(values) > 24:
            raise bad(what, "bank %s: more than 24 PCRs" % bank)
        size = ts.HASH_SIZES[bank]
        out[bank] = {}
        for index, digest in values.items():
            index = pcr_index(index)
            where = "%s (%s PCR %d)" % (what, bank, index)
            digest = hex_or_bytes(digest, where, size)
            if len(digest) != size:
                raise bad(where, "%d bytes, expected %d" % (len(digest), size))
            out[bank][index] = digest
    return out


def selection(
    value, what: str = "PCR selection"
) -> dict[str, tuple[int, ...]]:
    """Bank -> sorted PCR indices, from a mapping of iterables."""
    if not isinstance(value, Mapping):
        raise bad(what, "expected a mapping bank -> [PCR, ...]")
    out = {}
    for bank, indices in value.items():
        bank = bank_name(bank)
        if isinstance(indices, str | bytes) or not isinstance(
            indices, Iterable
        ):
            raise bad(what, "bank %s: expected a list of PCRs" % bank)
        picked = set()
        for index in indices:
            picked.add(pcr_index(index))
            if len(picked) > 24:
                break
        out[bank] = tuple(sorted(picked))
    return out


def blob_list(value, what: str, max_items: int, max_size: int) -> list[bytes]:
    """A list (or tuple) of at most max_items blobs."""
    if isinstance(value, (*_BYTES, str)) or not isinstance(
        value, list | tuple
    ):
        raise bad(what, "expected a list, got %s" % type(value).__name__)
    if len(value) > max_items:
        raise bad(what, "more than %d items" % max_items)
    return [
        blob(v, "%s[%d]" % (what, i), max_size) for i, v in enumerate(value)
    ]


def moment(value, what: str = "time") -> datetime.datetime | None:
    """None, or an aware datetime."""
    if value is None:
        return None
    if not isinstance(value, datetime.datetime) or value.tzinfo is None:
        raise bad(what, "expected a timezone-aware datetime")
    return value


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
