"""Verification of TPM 2.0 quotes (the chapter's Protocol 12.2).

A quote is the TPMS_ATTEST bytes, the TPMT_SIGNATURE over them made by the
node's attestation key (AK), and the PCR values the node reports.
:func:`verify_quote` checks, in this order: the signature with the AK's
public key, the quote's magic and type, that ``extraData`` equals the nonce
the verifier issued, that the PCR selection equals the one asked for, that
the PCR digest is the hash (with the signature's hash) of the reported
values, and the clock against the last accepted quote of the same AK.  Each
failure raises its own error from :mod:`acaas_nova.attestation.errors`.

Pure: imports only the standard library and ``cryptography``.
"""

import dataclasses
import functools
import hashlib
import hmac
import operator
import struct
from collections.abc import Iterable
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm as CryptoUnsupported
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    encode_dss_signature,
)

from acaas_nova.attestation import errors
from acaas_nova.attestation import inputs
from acaas_nova.attestation import tpm2_tools
from acaas_nova.attestation import tpm_public
from acaas_nova.attestation import tpm_structs as ts
from acaas_nova.attestation.tpm_structs import ClockInfo

#: What the verifier asks for: PCRs 0-10 of the sha256 bank (8 and 9 are
#: needed for the sha256 boot_aggregate, 10 is IMA's).
DEFAULT_SELECTION: Mapping[str, tuple[int, ...]] = MappingProxyType(
    {"sha256": tuple(range(11))}
)

#: The TPM refuses longer qualifying data (TPM2B_DATA of a quote).
MAX_NONCE_SIZE = 64

_HASHLIB = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}
_CRYPTO_HASHES = {
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}
_PKCS1 = padding.PKCS1v15()
#: DER DigestInfo of each hash (RFC 8017, 9.2 note 1): what precedes the
#: digest in an EMSA-PKCS1-v1_5 encoded message.
_DIGEST_INFO = {
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
}


@dataclasses.dataclass(frozen=True)
class AttestationKey:
    """An AK public key, parsed once and reused for every quote it signs.

    ``public`` is the TPM public area when the key came as TPM2B_PUBLIC,
    None when it came as PEM (a third-party tool's export): such a key
    has no TPM name and no scheme to check the signature's against.
    """

    public: tpm_public.PublicArea | None
    key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey

    @classmethod
    def from_tpm2b_public(cls, data: bytes) -> "AttestationKey":
        """Load an AK from its TPM2B_PUBLIC; it must be a signing key."""
        public = tpm_public.parse_public(data)
        if not public.has_attributes(ts.OBJ_SIGN):
            raise errors.MalformedInput(
                what="attestation key", reason="not a signing key"
            )
        return cls(public=public, key=public.public_key())

    @classmethod
    def from_pem(cls, data: bytes | str) -> "AttestationKey":
        """Load an AK from a PEM SubjectPublicKeyInfo (RSA or NIST ECC)."""
        if isinstance(data, str):
            data = data.encode("ascii", "replace")
        data = inputs.blob(data, "attestation key PEM", inputs.MAX_TPM_BLOB)
        try:
            key = serialization.load_pem_public_key(data)
        except CryptoUnsupported as exc:
            raise errors.UnsupportedAlgorithm(
                reason="AK key: %s" % str(exc)[:200]
            ) from None
        except (ValueError, TypeError) as exc:
            raise errors.MalformedInput(
                what="attestation key PEM", reason=str(exc)[:200]
            ) from None
        if isinstance(key, rsa.RSAPublicKey):
            if key.key_size not in (2048, 3072, 4096):
                raise errors.UnsupportedAlgorithm(
                    reason="RSA AK of %d bits" % key.key_size
                )
        elif not (
            isinstance(key, ec.EllipticCurvePublicKey)
            and key.curve.name in ("secp256r1", "secp384r1")
        ):
            raise errors.UnsupportedAlgorithm(
                reason="AK key type %s" % type(key).__name__
            )
        return cls(public=None, key=key)

    @classmethod
    def load(cls, data) -> "AttestationKey":
        """An AK from TPM2B_PUBLIC bytes or PEM (bytes or text)."""
        if isinstance(data, cls):
            return data
        if isinstance(data, str) or (
            isinstance(data, bytes | bytearray | memoryview)
            and bytes(data[:64]).lstrip().startswith(b"-----BEGIN")
        ):
            return cls.from_pem(data)
        return cls.from_tpm2b_public(data)

    @property
    def name(self) -> bytes | None:
        """The TPM name (None for a key loaded from PEM)."""
        return self.public.name if self.public is not None else None

    @functools.cached_property
    def rsassa_hashes(self) -> frozenset[int]:
        """TPM hash ids of RSASSA signatures the fast path may check with
        this key (empty for ECC keys: they take the general path)."""
        if self.public is None or not isinstance(self.key, rsa.RSAPublicKey):
            return frozenset()
        if self.public.scheme == ts.ALG_NULL:
            return frozenset(ts.HASH_IDS[h] for h in _CRYPTO_HASHES)
        if self.public.scheme != ts.ALG_RSASSA:
            return frozenset()
        return frozenset({ts.HASH_IDS[self.public.scheme_hash]})

    @functools.cached_property
    def fast_signatures(self) -> dict[bytes, tuple[int, int]]:
        """The first 6 bytes of an RSASSA TPMT_SIGNATURE the fast path may
        check with this key (scheme, hash, size) -> (the hash id, the
        signature's length)."""
        if not self.rsassa_hashes:
            return {}
        size = self.key.key_size // 8
        return {
            _SIG_HEAD.pack(ts.ALG_RSASSA, halg, size): (halg, 6 + size)
            for halg in self.rsassa_hashes
        }

    @functools.cached_property
    def quote_prefixes(self) -> dict[int, bytes]:
        """Nonce size -> the bytes this key's quotes start with up to the
        nonce (magic, type, qualifiedSigner, extraData size), learned from
        its first verified quote: the fast path compares instead of
        parsing them (a quote that differs takes the general path)."""
        return {}


class QuoteResult(NamedTuple):
    """What a verified quote proves (a NamedTuple: cheap to build, and a
    verifier builds one per quote).

    ``pcrs`` maps bank name -> PCR index -> value, for exactly the quoted
    PCRs.  ``reboot`` is true when the TPM was reset since the previous
    accepted quote: the caller must then replay the whole measurement log.
    """

    pcrs: Mapping[str, Mapping[int, bytes]]
    clock_info: ClockInfo
    reboot: bool
    firmware_version: int
    hash_name: str


def normalize_selection(
    selection: Mapping[str, Iterable[int]],
) -> dict[str, tuple[int, ...]]:
    """Canonical form of a PCR selection: bank -> sorted PCR indices."""
    cached = _NORMALIZED.get(id(selection))
    if cached is not None and cached[0] is selection:
        return cached[1]
    normal = inputs.selection(selection)
    if isinstance(selection, MappingProxyType) and len(_NORMALIZED) < 64:
        # Read-only selections (like DEFAULT_SELECTION) are normalized
        # once; the entry keeps the object alive so its id stays unique.
        _NORMALIZED[id(selection)] = (selection, normal)
    return normal


_NORMALIZED: dict[int, tuple[Mapping, dict[str, tuple[int, ...]]]] = {}


def verify_signature(
    ak: AttestationKey, message: bytes, signature: ts.Signature
) -> None:
    """Check a TPMT_SIGNATURE over message with the AK; SignatureInvalid."""
    algo = _CRYPTO_HASHES.get(signature.hash_name)
    if algo is None:
        raise errors.UnsupportedAlgorithm(
            reason="signature hash %s" % signature.hash_name
        )
    scheme = ak.public.scheme if ak.public is not None else ts.ALG_NULL
    if scheme != ts.ALG_NULL and (
        scheme != signature.sig_alg
        or ak.public.scheme_hash != signature.hash_name
    ):
        raise errors.SignatureInvalid(
            reason="signature scheme differs from the AK's"
        )
    key = ak.key
    try:
        if signature.sig_alg == ts.ALG_ECDSA:
            if not isinstance(key, ec.EllipticCurvePublicKey):
                raise errors.SignatureInvalid(
                    reason="ECDSA signature for a non-ECC AK"
                )
            der = encode_dss_signature(signature.ecc_r, signature.ecc_s)
            key.verify(der, message, ec.ECDSA(algo))
            return
        if not isinstance(key, rsa.RSAPublicKey):
            raise errors.SignatureInvalid(
                reason="RSA signature for a non-RSA AK"
            )
        if signature.sig_alg == ts.ALG_RSASSA:
            pad = _PKCS1
        else:
            # TPMs use a salt as long as the digest, some the maximum: AUTO
            # accepts both.
            pad = padding.PSS(
                mgf=padding.MGF1(algo), salt_length=padding.PSS.AUTO
            )
        key.verify(signature.rsa_sig, message, pad, algo)
    except InvalidSignature:
        raise errors.SignatureInvalid(
            reason="does not verify with the attestation key"
        ) from None
    except ValueError as exc:  # e.g. out-of-range ECDSA r/s
        raise errors.SignatureInvalid(reason=str(exc)) from None


def pcr_digest(
    hash_name: str,
    select: tuple[tuple[str, tuple[int, ...]], ...],
    pcrs: Mapping[str, Mapping[int, bytes]],
) -> bytes:
    """Digest of the PCR values in the order of the quote's selection."""
    parts = []
    for bank, indices in select:
        values = pcrs.get(bank) or {}
        size = ts.HASH_SIZES[bank]
        try:
            chunk = [values[i] for i in indices]
            sizes = set(map(len, chunk))
        except (KeyError, TypeError):
            sizes = None
        # Every value must have the bank's size, or a value cut short and
        # its neighbour made longer would hash the same.
        if sizes != {size} and indices:
            bad = [i for i in indices if len(values.get(i) or b"") != size]
            raise errors.MalformedInput(
                what="PCR values",
                reason="%s PCR %s missing or not %d bytes"
                % (bank, bad[0] if bad else "?", size),
            )
        parts.extend(chunk)
    return _HASHLIB[hash_name](b"".join(parts)).digest()


def check_clock(previous: ClockInfo | None, current: ClockInfo) -> bool:
    """Compare with the last accepted quote; return True on a TPM reset.

    The reset count only grows (TPM Reset: a reboot); the restart count
    grows within one reset (TPM Restart, e.g. resume) and the clock grows
    within one restart.  Anything else is a replayed or forged quote.
    """
    if previous is None:
        return False
    if current.reset_count < previous.reset_count:
        raise errors.ClockError(
            reason="resetCount went back from %d to %d"
            % (previous.reset_count, current.reset_count)
        )
    if current.reset_count > previous.reset_count:
        return True
    if current.restart_count < previous.restart_count:
        raise errors.ClockError(
            reason="restartCount went back from %d to %d"
            % (previous.restart_count, current.restart_count)
        )
    if (
        current.restart_count == previous.restart_count
        and current.clock <= previous.clock
    ):
        raise errors.ClockError(
            reason="clock did not advance (%d after %d)"
            % (current.clock, previous.clock)
        )
    return False


def verify_quote(
    ak: AttestationKey,
    attest: bytes,
    signature: bytes,
    pcrs: Mapping[str, Mapping[int, bytes]],
    nonce: bytes,
    selection: Mapping[str, Iterable[int]] = DEFAULT_SELECTION,
    previous: ClockInfo | None = None,
) -> QuoteResult:
    """Verify a quote; return what it proves or raise a precise error.

    ``attest`` is the TPMS_ATTEST (the data inside TPM2B_ATTEST),
    ``signature`` the marshalled TPMT_SIGNATURE, ``pcrs`` the reported
    values (bank -> index -> bytes), ``nonce`` the verifier's fresh nonce,
    ``selection`` the PCRs asked for and ``previous`` the clock info of the
    last quote accepted from this AK (None on the first quote).

    Third-party forms are accepted: ``ak`` as an :class:`AttestationKey`,
    TPM2B_PUBLIC bytes or PEM; ``nonce`` as bytes or hex text; ``pcrs``
    as a mapping (values bytes or hex, indices int or decimal text) or
    the bytes / text tpm2-tools writes (``tpm2_quote -o``,
    ``tpm2_pcrread -o``, see :mod:`~acaas_nova.attestation.tpm2_tools`).
    Any badly typed or malformed argument raises MalformedInput.
    """
    if (
        type(nonce) is bytes
        and type(pcrs) is dict
        and (previous is None or type(previous) is ClockInfo)
    ):
        # The usual, canonical form: try the fast path first.  It never
        # accepts what the general path refuses; anything odd about the
        # arguments sends them down the general path, which names it.
        cached = _FAST_LAYOUTS.get(id(selection))
        if cached is not None and cached[0] is selection:
            layout = cached[1]
        else:
            layout = _layout(normalize_selection(selection))
        try:
            fast = _fast(ak, attest, signature, pcrs, nonce, layout, previous)
        except (TypeError, ValueError, KeyError, AttributeError):
            fast = None
        if fast is not None:
            return fast
    if not isinstance(ak, AttestationKey):
        ak = AttestationKey.load(ak)
    if previous is not None and not isinstance(previous, ClockInfo):
        raise errors.MalformedInput(
            what="previous clock info",
            reason="expected ClockInfo or None, got %s"
            % type(previous).__name__,
        )
    wanted = normalize_selection(selection)
    attest = inputs.blob(attest, "attestation")
    sig = ts.parse_signature(inputs.blob(signature, "signature"))
    nonce = inputs.nonce(nonce)
    if isinstance(pcrs, str | bytes | bytearray | memoryview):
        pcrs = tpm2_tools.load_pcrs(pcrs, selection)
    else:
        pcrs = inputs.pcr_values(pcrs)
    verify_signature(ak, attest, sig)
    quoted = ts.parse_attest(attest)
    if not hmac.compare_digest(quoted.extra_data, nonce):
        raise errors.NonceMismatch(
            reason="extraData is not the nonce issued for this quote"
        )
    got = dict(quoted.pcr_select)
    if got != wanted or len(got) != len(quoted.pcr_select):
        raise errors.PCRSelectionMismatch(
            reason="quoted %s, asked for %s"
            % (_describe(got), _describe(wanted))
        )
    # pcr_digest() checks that every quoted PCR is reported; equal counts
    # then mean nothing else is.
    unquoted = [
        bank
        for bank, values in pcrs.items()
        if len(values) != len(got.get(bank, ()))
    ]
    if unquoted:
        raise errors.MalformedInput(
            what="PCR values",
            reason="values reported for unquoted PCRs of bank(s) %s"
            % ", ".join(sorted(unquoted)),
        )
    digest = pcr_digest(sig.hash_name, quoted.pcr_select, pcrs)
    if not hmac.compare_digest(digest, quoted.pcr_digest):
        raise errors.PCRDigestMismatch(
            reason="reported PCR values do not hash to the quoted digest"
        )
    reboot = check_clock(previous, quoted.clock_info)
    return QuoteResult(
        pcrs={bank: dict(values) for bank, values in pcrs.items()},
        clock_info=quoted.clock_info,
        reboot=reboot,
        firmware_version=quoted.firmware_version,
        hash_name=sig.hash_name,
    )


_HEAD = struct.pack(">IH", ts.TPM_GENERATED_VALUE, ts.TPM_ST_ATTEST_QUOTE)
_SIG_HEAD = struct.Struct(">HHH")
_U16 = struct.Struct(">H")
_CLOCK = struct.Struct(">QIIBQ")  # TPMS_CLOCK_INFO + firmwareVersion
_CRYPTO_BY_ID = {ts.HASH_IDS[n]: h for n, h in _CRYPTO_HASHES.items()}


def _marshalled_selection(select) -> bytes:
    """TPML_PCR_SELECTION bytes as a TPM writes them (3-byte bitmaps)."""
    out = [struct.pack(">I", len(select))]
    for bank, indices in select:
        bits = sum(1 << i for i in indices)
        out.append(struct.pack(">HB", ts.HASH_IDS[bank], 3))
        out.append(bits.to_bytes(3, "little"))
    return b"".join(out)


class _Layout(NamedTuple):
    """What a quote of one normalized selection must look like."""

    #: (bank, its indices, getter of their values as a tuple, the list of
    #: their expected sizes) per bank.
    banks: tuple
    #: hash id -> (marshalled TPML_PCR_SELECTION + TPM2B size of the
    #: digest, hashlib constructor, DER DigestInfo of the hash, hash name).
    tails: dict


def _getter(indices):
    if len(indices) == 1:
        index = indices[0]
        return lambda values: (values[index],)
    return operator.itemgetter(*indices)


def _layout(wanted: dict[str, tuple[int, ...]]) -> _Layout:
    """The layout of a normalized selection; cached by the selection
    object for the read-only ones normalize_selection keeps (a verifier
    asks for the same selection over and over)."""
    banks = tuple(
        (
            bank,
            indices,
            _getter(indices) if indices else (lambda values: ()),
            [ts.HASH_SIZES.get(bank, 0)] * len(indices),
        )
        for bank, indices in wanted.items()
    )
    marshalled = _marshalled_selection(
        tuple((bank, indices) for bank, indices in wanted.items())
    )
    layout = _Layout(
        banks,
        {
            ts.HASH_IDS[name]: (
                marshalled + _DIGEST_SIZE[hashlib.new(name).digest_size],
                _HASHLIB[name],
                _DIGEST_INFO[name],
                name,
            )
            for name in _CRYPTO_HASHES
        },
    )
    if len(_FAST_LAYOUTS) < 64:
        for selection, normal in _NORMALIZED.values():
            if normal is wanted:
                _FAST_LAYOUTS[id(selection)] = (selection, layout)
    return layout


def _quote_prefix(attest: bytes, n: int) -> bytes | None:
    """``attest`` up to its extraData, if it is a quote whose extraData
    has ``n`` bytes (None otherwise)."""
    try:
        end = 10 + _U16.unpack_from(attest, 6)[0]
        extra = _U16.unpack_from(attest, end - 2)[0]
    except struct.error:
        return None
    if extra != n or not attest.startswith(_HEAD):
        return None
    return attest[:end]


#: id(read-only selection) -> (that selection, its _Layout).
_FAST_LAYOUTS: dict[int, tuple[Mapping, _Layout]] = {}
_new = tuple.__new__


def _fast(ak, attest, signature, pcrs, nonce, layout, previous):
    """The usual quote, checked by comparing it with the bytes it must be.

    A well-formed RSASSA quote of the selection asked for is fully
    determined by its signer, the nonce, the reported PCR values and the
    clock fields, so instead of parsing it field by field it is compared
    with its expected marshalling.  Returns None for anything unusual
    (another scheme or layout, any mismatch): the caller then takes the
    general path, which names precisely what is wrong.  Never accepts
    what that path refuses.  The result's ``pcrs`` is the caller's
    mapping itself (it holds exactly the quoted PCRs), not a copy.
    """
    if (
        type(attest) is not bytes
        or type(signature) is not bytes
        or type(ak) is not AttestationKey
    ):
        return None
    head = ak.fast_signatures.get(signature[:6])
    if head is None or len(signature) != head[1]:
        return None
    n = len(nonce)
    prefix = ak.quote_prefixes.get(n)
    learned = None
    if prefix is None:
        learned = prefix = _quote_prefix(attest, n)
        if prefix is None:
            return None
    elif not attest.startswith(prefix):
        return None
    end = len(prefix) + n
    try:
        clock, reset, restart, safe, firmware = _CLOCK.unpack_from(attest, end)
    except struct.error:
        return None
    if not attest.startswith(nonce, end - n) or len(pcrs) != len(layout.banks):
        return None
    parts = ()
    for bank, indices, getter, sizes in layout.banks:
        values = pcrs.get(bank)
        if values is None or len(values) != len(indices):
            return None
        chunk = getter(values)
        # Each value exactly the bank's size: a value cut short and its
        # neighbour made longer would hash the same.
        if list(map(len, chunk)) != sizes:
            return None
        parts = chunk if not parts else parts + chunk
    tail, hasher, digest_info, hash_name = layout.tails[head[0]]
    expected = tail + hasher(b"".join(parts)).digest()
    if len(attest) != end + _CLOCK.size + len(expected) or not (
        attest.endswith(expected)
    ):
        return None
    # RSASSA-PKCS1-v1_5 verification (RFC 8017, 8.2.2) as recovery and
    # comparison: OpenSSL applies the public key and checks the type-1
    # padding (00 01, at least 8 FF, 00); the rest must be exactly the
    # DigestInfo and the digest of the quote -- the one encoding
    # verify() accepts too (it compares the same bytes), without its
    # per-call digest fetch.
    try:
        recovered = ak.key.recover_data_from_signature(
            signature[6:], _PKCS1, None
        )
    except InvalidSignature:
        recovered = None
    if recovered is None or not hmac.compare_digest(
        recovered, digest_info + hasher(attest).digest()
    ):
        raise errors.SignatureInvalid(
            reason="does not verify with the attestation key"
        )
    if learned is not None and len(ak.quote_prefixes) < 4:
        ak.quote_prefixes[n] = learned
    info = _new(ClockInfo, (clock, reset, restart, safe != 0))
    if previous is None or (
        previous.reset_count == reset
        and previous.restart_count == restart
        and previous.clock < clock
    ):
        reboot = False  # the usual case of check_clock, inline
    else:
        reboot = check_clock(previous, info)
    return _new(QuoteResult, (pcrs, info, reboot, firmware, hash_name))


_DIGEST_SIZE = {n: struct.pack(">H", n) for n in (20, 32, 48, 64)}


def _describe(selection: Mapping[str, tuple[int, ...]]) -> str:
    return "; ".join(
        "%s:%s" % (bank, ",".join(map(str, pcrs)))
        for bank, pcrs in sorted(selection.items())
    )
