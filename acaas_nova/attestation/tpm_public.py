"""TPM 2.0 public areas (TPM2B_PUBLIC) of RSA and ECC keys.

Parses the public area an agent reports for its EK and AK, computes the
key's TPM name (``nameAlg || H_nameAlg(TPMT_PUBLIC)``), and converts the key
into a ``cryptography`` public key.  Every failure, unsupported algorithms
included, is :class:`~acaas_nova.attestation.errors.MalformedInput`.
"""

import dataclasses
import hashlib
import struct

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa

from acaas_nova.attestation import errors
from acaas_nova.attestation import tpm_structs as ts

_CURVES = {
    ts.ECC_NIST_P256: (ec.SECP256R1, 32),
    ts.ECC_NIST_P384: (ec.SECP384R1, 48),
}


@dataclasses.dataclass(frozen=True)
class PublicArea:
    """The fields of a TPMT_PUBLIC that registration and quoting need."""

    raw: bytes  # the marshalled TPMT_PUBLIC (without the TPM2B size)
    type: int  # ts.ALG_RSA or ts.ALG_ECC
    name_alg: str
    attributes: int
    auth_policy: bytes
    sym_alg: int  # ts.ALG_NULL or ts.ALG_AES
    sym_bits: int
    sym_mode: int
    scheme: int  # ts.ALG_NULL, RSASSA, RSAPSS, ECDSA ...
    scheme_hash: str | None
    rsa_bits: int = 0
    rsa_exponent: int = 0
    rsa_modulus: bytes = b""
    curve: int = 0
    ecc_x: bytes = b""
    ecc_y: bytes = b""

    @property
    def name(self) -> bytes:
        """The TPM name: nameAlg id || digest of the public area."""
        digest = hashlib.new(self.name_alg, self.raw).digest()
        return struct.pack(">H", ts.HASH_IDS[self.name_alg]) + digest

    def has_attributes(self, mask: int) -> bool:
        return self.attributes & mask == mask

    def public_key(self) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
        """The key as a ``cryptography`` public key."""
        try:
            if self.type == ts.ALG_RSA:
                exponent = self.rsa_exponent or 65537  # 0 means the default
                n = int.from_bytes(self.rsa_modulus, "big")
                return rsa.RSAPublicNumbers(exponent, n).public_key()
            curve, _size = _CURVES[self.curve]
            return ec.EllipticCurvePublicNumbers(
                int.from_bytes(self.ecc_x, "big"),
                int.from_bytes(self.ecc_y, "big"),
                curve(),
            ).public_key()
        except ValueError as exc:
            raise errors.MalformedInput(
                what="public area", reason="invalid key: %s" % exc
            ) from None


def _u16(data: bytes, off: int) -> tuple[int, int]:
    if off + 2 > len(data):
        raise errors.MalformedInput(
            what="public area", reason="truncated at offset %d" % off
        )
    return struct.unpack_from(">H", data, off)[0], off + 2


def _scheme(data: bytes, off: int) -> tuple[int, str | None, int]:
    scheme, off = _u16(data, off)
    if scheme == ts.ALG_NULL:
        return scheme, None, off
    halg, off = _u16(data, off)
    if scheme == ts.ALG_ECDAA:
        _count, off = _u16(data, off)
    return scheme, ts.hash_name(halg, "key scheme"), off


def parse_public(data: bytes) -> PublicArea:
    """Parse a TPM2B_PUBLIC (u16 size followed by a TPMT_PUBLIC)."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise errors.MalformedInput(what="public area", reason="not bytes")
    raw, end = ts.read_tpm2b(bytes(data), 0, "public area")
    if end != len(data):
        raise errors.MalformedInput(
            what="public area", reason="trailing bytes after TPM2B_PUBLIC"
        )
    return parse_tpmt_public(raw)


def parse_tpmt_public(raw: bytes) -> PublicArea:
    """Parse a TPMT_PUBLIC of an RSA or ECC key."""
    if len(raw) < 10:
        raise errors.MalformedInput(what="public area", reason="too short")
    kind, name_alg, attrs = struct.unpack_from(">HHI", raw, 0)
    if kind not in (ts.ALG_RSA, ts.ALG_ECC):
        raise errors.MalformedInput(
            what="public area", reason="unsupported key type 0x%04x" % kind
        )
    policy, off = ts.read_tpm2b(raw, 8, "public area authPolicy")
    sym, off = _u16(raw, off)
    sym_bits = sym_mode = 0
    if sym != ts.ALG_NULL:
        sym_bits, off = _u16(raw, off)
        sym_mode, off = _u16(raw, off)
    scheme, scheme_hash, off = _scheme(raw, off)
    fields = dict(
        raw=raw,
        type=kind,
        name_alg=ts.hash_name(name_alg, "nameAlg"),
        attributes=attrs,
        auth_policy=policy,
        sym_alg=sym,
        sym_bits=sym_bits,
        sym_mode=sym_mode,
        scheme=scheme,
        scheme_hash=scheme_hash,
    )
    if kind == ts.ALG_RSA:
        bits, off = _u16(raw, off)
        if off + 4 > len(raw):
            raise errors.MalformedInput(
                what="public area", reason="truncated RSA exponent"
            )
        (exponent,) = struct.unpack_from(">I", raw, off)
        modulus, off = ts.read_tpm2b(raw, off + 4, "RSA modulus")
        if len(modulus) * 8 != bits or bits not in (2048, 3072, 4096):
            raise errors.MalformedInput(
                what="public area",
                reason="unsupported RSA key of %d bits (modulus %d bytes)"
                % (bits, len(modulus)),
            )
        fields.update(
            rsa_bits=bits, rsa_exponent=exponent, rsa_modulus=modulus
        )
    else:
        curve, off = _u16(raw, off)
        _kdf, _kdf_hash, off = _scheme(raw, off)
        x, off = ts.read_tpm2b(raw, off, "ECC point x")
        y, off = ts.read_tpm2b(raw, off, "ECC point y")
        if curve not in _CURVES:
            raise errors.MalformedInput(
                what="public area",
                reason="unsupported ECC curve 0x%04x" % curve,
            )
        size = _CURVES[curve][1]
        if len(x) != size or len(y) != size:
            raise errors.MalformedInput(
                what="public area", reason="ECC point of wrong size"
            )
        fields.update(curve=curve, ecc_x=x, ecc_y=y)
    if off != len(raw):
        raise errors.MalformedInput(
            what="public area", reason="%d trailing bytes" % (len(raw) - off)
        )
    return PublicArea(**fields)


def curve_size(curve: int) -> int:
    """Coordinate size in bytes of a supported TPM curve."""
    return _CURVES[curve][1]
