"""Unmarshalling of the TPM 2.0 structures that attestation evidence carries.

A small big-endian reader written for speed: a quote verifier parses one
TPMS_ATTEST and one TPMT_SIGNATURE per quote, and going through
tpm2-pytss's CFFI structure types costs more than the rest of the checks
together.  Every failure, whatever the input bytes, is
:class:`~acaas_nova.attestation.errors.MalformedInput` (an algorithm id we
do not support included); nothing else escapes.

Only the parts attestation needs are parsed: TPMS_ATTEST of a quote,
TPMT_SIGNATURE (RSASSA, RSAPSS, ECDSA), TPMT_PUBLIC of RSA and ECC keys and
TPML_PCR_SELECTION.  Structure names follow TPM 2.0 Part 2.
"""

import functools
import struct
from typing import NamedTuple

from acaas_nova.attestation import errors

TPM_GENERATED_VALUE = 0xFF544347
TPM_ST_ATTEST_QUOTE = 0x8018

ALG_RSA = 0x0001
ALG_SHA1 = 0x0004
ALG_HMAC = 0x0005
ALG_AES = 0x0006
ALG_KEYEDHASH = 0x0008
ALG_SHA256 = 0x000B
ALG_SHA384 = 0x000C
ALG_SHA512 = 0x000D
ALG_NULL = 0x0010
ALG_RSASSA = 0x0014
ALG_RSAPSS = 0x0016
ALG_ECDSA = 0x0018
ALG_ECDAA = 0x001A
ALG_ECC = 0x0023
ALG_CFB = 0x0043

ECC_NIST_P256 = 0x0003
ECC_NIST_P384 = 0x0004

#: TPM_ALG_ID of a hash -> the bank / hashlib name we use everywhere.
HASH_NAMES = {
    ALG_SHA1: "sha1",
    ALG_SHA256: "sha256",
    ALG_SHA384: "sha384",
    ALG_SHA512: "sha512",
}
HASH_IDS = {name: alg for alg, name in HASH_NAMES.items()}
HASH_SIZES = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}

# TPMA_OBJECT bits (Part 2, 8.3).
OBJ_FIXED_TPM = 1 << 1
OBJ_FIXED_PARENT = 1 << 4
OBJ_SENSITIVE_DATA_ORIGIN = 1 << 5
OBJ_USER_WITH_AUTH = 1 << 6
OBJ_ADMIN_WITH_POLICY = 1 << 7
OBJ_RESTRICTED = 1 << 16
OBJ_DECRYPT = 1 << 17
OBJ_SIGN = 1 << 18

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_CLOCK = struct.Struct(">QIIBQ")  # clock, reset, restart, safe, firmware


class ClockInfo(NamedTuple):
    """TPMS_CLOCK_INFO: the TPM's clock and its reset/restart counters (a
    NamedTuple: a verifier builds one per quote)."""

    clock: int
    reset_count: int
    restart_count: int
    safe: bool


class Attest(NamedTuple):
    """A parsed TPMS_ATTEST of type quote (a NamedTuple: cheap to build).

    ``pcr_select`` keeps the order of the structure: a tuple of
    (bank name, tuple of PCR indices ascending), which is also the order in
    which PCR values are concatenated for the PCR digest.
    """

    qualified_signer: bytes
    extra_data: bytes
    clock_info: ClockInfo
    firmware_version: int
    pcr_select: tuple[tuple[str, tuple[int, ...]], ...]
    pcr_digest: bytes


class Signature(NamedTuple):
    """A parsed TPMT_SIGNATURE (RSA signature bytes, or ECDSA r and s)."""

    sig_alg: int
    hash_name: str
    rsa_sig: bytes = b""
    ecc_r: int = 0
    ecc_s: int = 0


def _malformed(what: str, reason: str) -> errors.MalformedInput:
    return errors.MalformedInput(what=what, reason=reason)


def read_tpm2b(data: bytes, off: int, what: str) -> tuple[bytes, int]:
    """Read a TPM2B (u16 size + bytes) at off; return (bytes, new offset)."""
    if off + 2 > len(data):
        raise _malformed(what, "truncated size field at offset %d" % off)
    (size,) = _U16.unpack_from(data, off)
    end = off + 2 + size
    if end > len(data):
        raise _malformed(what, "size %d at offset %d overruns" % (size, off))
    return data[off + 2 : end], end


def _u16(data: bytes, off: int, what: str) -> int:
    if off + 2 > len(data):
        raise _malformed(what, "truncated at offset %d" % off)
    return _U16.unpack_from(data, off)[0]


def hash_name(alg: int, what: str) -> str:
    """The bank name of a TPM hash algorithm id, or MalformedInput."""
    try:
        return HASH_NAMES[alg]
    except KeyError:
        raise _malformed(
            what, "unsupported hash algorithm 0x%04x" % alg
        ) from None


@functools.lru_cache(maxsize=256)
def _select_indices(select: bytes) -> tuple[int, ...]:
    # A verifier sees the same few selections over and over: decode once.
    bits = int.from_bytes(select, "little")
    return tuple(i for i in range(len(select) * 8) if bits >> i & 1)


def parse_pcr_selection(
    data: bytes, off: int
) -> tuple[tuple[tuple[str, tuple[int, ...]], ...], int]:
    """Parse a TPML_PCR_SELECTION at off; return (selection, new offset)."""
    if off + 4 > len(data):
        raise _malformed("PCR selection", "truncated count")
    (count,) = _U32.unpack_from(data, off)
    off += 4
    if count > 16:
        raise _malformed("PCR selection", "%d banks is too many" % count)
    banks = []
    for _ in range(count):
        if off + 3 > len(data):
            raise _malformed("PCR selection", "truncated selection")
        alg = _U16.unpack_from(data, off)[0]
        size = data[off + 2]
        off += 3
        if size > 4 or off + size > len(data):
            raise _malformed("PCR selection", "bad select size %d" % size)
        pcrs = _select_indices(data[off : off + size])
        off += size
        banks.append((hash_name(alg, "PCR bank"), pcrs))
    return tuple(banks), off


def parse_attest(data: bytes) -> Attest:
    """Parse the TPMS_ATTEST of a quote; check magic and type."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise _malformed("attestation", "not bytes")
    data = bytes(data)
    if len(data) < 6:
        raise _malformed("attestation", "only %d bytes" % len(data))
    magic, st = struct.unpack_from(">IH", data, 0)
    if magic != TPM_GENERATED_VALUE:
        raise _malformed(
            "attestation", "magic 0x%08x is not TPM_GENERATED" % magic
        )
    if st != TPM_ST_ATTEST_QUOTE:
        raise _malformed("attestation", "type 0x%04x is not a quote" % st)
    signer, off = read_tpm2b(data, 6, "attestation signer")
    extra, off = read_tpm2b(data, off, "attestation extraData")
    if off + _CLOCK.size > len(data):
        raise _malformed("attestation", "truncated clock info")
    clock, reset, restart, safe, fw = _CLOCK.unpack_from(data, off)
    off += _CLOCK.size
    select, off = parse_pcr_selection(data, off)
    digest, off = read_tpm2b(data, off, "attestation PCR digest")
    if off != len(data):
        raise _malformed(
            "attestation", "%d trailing bytes" % (len(data) - off)
        )
    return Attest(
        qualified_signer=signer,
        extra_data=extra,
        clock_info=ClockInfo(clock, reset, restart, bool(safe)),
        firmware_version=fw,
        pcr_select=select,
        pcr_digest=digest,
    )


def parse_signature(data: bytes) -> Signature:
    """Parse a TPMT_SIGNATURE of scheme RSASSA, RSAPSS or ECDSA."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise _malformed("signature", "not bytes")
    data = bytes(data)
    alg = _u16(data, 0, "signature")
    halg = _u16(data, 2, "signature")
    if alg in (ALG_RSASSA, ALG_RSAPSS):
        sig, off = read_tpm2b(data, 4, "RSA signature")
        if off != len(data):
            raise _malformed("signature", "trailing bytes")
        return Signature(alg, hash_name(halg, "signature"), rsa_sig=sig)
    if alg == ALG_ECDSA:
        r, off = read_tpm2b(data, 4, "ECDSA signature r")
        s, off = read_tpm2b(data, off, "ECDSA signature s")
        if off != len(data):
            raise _malformed("signature", "trailing bytes")
        return Signature(
            alg,
            hash_name(halg, "signature"),
            ecc_r=int.from_bytes(r, "big"),
            ecc_s=int.from_bytes(s, "big"),
        )
    raise _malformed("signature", "unsupported scheme 0x%04x" % alg)
