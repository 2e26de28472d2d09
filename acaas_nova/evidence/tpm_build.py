"""Marshal TPM 2.0 attestation structures from software keys.

The inverse of :mod:`tpm_structs` and :mod:`tpm_public` for tests and
benchmarks: a TPM2B_PUBLIC for a ``cryptography`` key, a quote's
TPMS_ATTEST, and a TPMT_SIGNATURE made with a ``cryptography`` private key,
so every verification branch can be exercised without a TPM.  Pure:
standard library and ``cryptography`` only.
"""

import hashlib
import struct
from collections.abc import Iterable
from collections.abc import Mapping

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
)

from acaas_nova.attestation import tpm_structs as ts

#: TPMA_OBJECT of an AK: restricted signing key bound to its TPM.
AK_ATTRIBUTES = (
    ts.OBJ_FIXED_TPM
    | ts.OBJ_FIXED_PARENT
    | ts.OBJ_SENSITIVE_DATA_ORIGIN
    | ts.OBJ_USER_WITH_AUTH
    | ts.OBJ_RESTRICTED
    | ts.OBJ_SIGN
)
_CURVE_IDS = {"secp256r1": ts.ECC_NIST_P256, "secp384r1": ts.ECC_NIST_P384}
_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384}


def tpm2b(data: bytes) -> bytes:
    """u16 size || data."""
    return struct.pack(">H", len(data)) + data


def tpmt_public(
    key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
    scheme: int = ts.ALG_RSASSA,
    scheme_hash: str = "sha256",
    attributes: int = AK_ATTRIBUTES,
    name_alg: str = "sha256",
    auth_policy: bytes = b"",
    symmetric: tuple[int, int, int] | None = None,
) -> bytes:
    """The TPMT_PUBLIC of a key (``scheme`` ALG_NULL for none)."""
    is_rsa = isinstance(key, rsa.RSAPublicKey)
    out = struct.pack(
        ">HHI",
        ts.ALG_RSA if is_rsa else ts.ALG_ECC,
        ts.HASH_IDS[name_alg],
        attributes,
    ) + tpm2b(auth_policy)
    if symmetric is None:
        out += struct.pack(">H", ts.ALG_NULL)
    else:
        out += struct.pack(">HHH", *symmetric)
    if scheme == ts.ALG_NULL:
        out += struct.pack(">H", ts.ALG_NULL)
    else:
        out += struct.pack(">HH", scheme, ts.HASH_IDS[scheme_hash])
    if is_rsa:
        numbers = key.public_numbers()
        exponent = 0 if numbers.e == 65537 else numbers.e
        size = key.key_size // 8
        return (
            out
            + struct.pack(">HI", key.key_size, exponent)
            + tpm2b(numbers.n.to_bytes(size, "big"))
        )
    numbers = key.public_numbers()
    size = (key.curve.key_size + 7) // 8
    return (
        out
        + struct.pack(">HH", _CURVE_IDS[key.curve.name], ts.ALG_NULL)
        + tpm2b(numbers.x.to_bytes(size, "big"))
        + tpm2b(numbers.y.to_bytes(size, "big"))
    )


def tpm2b_public(key, **kwargs) -> bytes:
    """TPM2B_PUBLIC of a key; keyword arguments as for tpmt_public."""
    return tpm2b(tpmt_public(key, **kwargs))


def pcr_selection(selection: Iterable[tuple[str, Iterable[int]]]) -> bytes:
    """TPML_PCR_SELECTION of (bank, indices) pairs, 3-byte bitmaps."""
    selection = list(selection)
    out = struct.pack(">I", len(selection))
    for bank, indices in selection:
        bits = 0
        for index in indices:
            bits |= 1 << index
        out += struct.pack(">HB", ts.HASH_IDS[bank], 3)
        out += bits.to_bytes(3, "little")
    return out


def quote_attest(
    nonce: bytes,
    selection: Iterable[tuple[str, Iterable[int]]],
    pcrs: Mapping[str, Mapping[int, bytes]],
    hash_name: str = "sha256",
    clock: int = 1000,
    reset_count: int = 0,
    restart_count: int = 0,
    signer: bytes = b"\x00\x0b" + bytes(32),
    magic: int = ts.TPM_GENERATED_VALUE,
    st: int = ts.TPM_ST_ATTEST_QUOTE,
    digest: bytes | None = None,
) -> bytes:
    """A quote's TPMS_ATTEST over the given PCR values."""
    selection = [(bank, sorted(ix)) for bank, ix in selection]
    if digest is None:
        h = hashlib.new(hash_name)
        for bank, indices in selection:
            for index in indices:
                h.update(pcrs[bank][index])
        digest = h.digest()
    return (
        struct.pack(">IH", magic, st)
        + tpm2b(signer)
        + tpm2b(nonce)
        + struct.pack(">QIIBQ", clock, reset_count, restart_count, 1, 0x2019)
        + pcr_selection(selection)
        + tpm2b(digest)
    )


def sign(
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    message: bytes,
    scheme: int = ts.ALG_RSASSA,
    hash_name: str = "sha256",
) -> bytes:
    """TPMT_SIGNATURE over message, as a TPM signs with that scheme."""
    algo = _HASHES[hash_name]()
    head = struct.pack(">HH", scheme, ts.HASH_IDS[hash_name])
    if scheme == ts.ALG_ECDSA:
        r, s = decode_dss_signature(private_key.sign(message, ec.ECDSA(algo)))
        size = (private_key.curve.key_size + 7) // 8
        return (
            head
            + tpm2b(r.to_bytes(size, "big"))
            + tpm2b(s.to_bytes(size, "big"))
        )
    if scheme == ts.ALG_RSAPSS:
        pad = padding.PSS(mgf=padding.MGF1(algo), salt_length=algo.digest_size)
    else:
        pad = padding.PKCS1v15()
    return head + tpm2b(private_key.sign(message, pad, algo))
