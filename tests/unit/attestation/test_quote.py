"""Quote verification over hand-built TPMS_ATTEST and software keys."""

import ast
import hashlib
import pathlib
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from acaas_nova.attestation import errors
from acaas_nova.attestation import quote as q
from acaas_nova.attestation import tpm_public
from acaas_nova.attestation import tpm_structs as ts
from acaas_nova.evidence import tpm_build

NONCE = b"n" * 20
SELECTION = {"sha256": tuple(range(11)), "sha1": tuple(range(11))}
ORDER = [("sha256", range(11)), ("sha1", range(11))]
PCRS = {
    "sha256": {i: hashlib.sha256(b"%d" % i).digest() for i in range(11)},
    "sha1": {i: hashlib.sha1(b"%d" % i).digest() for i in range(11)},
}

RSA_KEY = rsa.generate_private_key(65537, 2048)
P256_KEY = ec.generate_private_key(ec.SECP256R1())
P384_KEY = ec.generate_private_key(ec.SECP384R1())

SCHEMES = {
    "rsassa": (RSA_KEY, ts.ALG_RSASSA, "sha256"),
    "rsapss": (RSA_KEY, ts.ALG_RSAPSS, "sha256"),
    "rsassa384": (RSA_KEY, ts.ALG_RSASSA, "sha384"),
    "p256": (P256_KEY, ts.ALG_ECDSA, "sha256"),
    "p384": (P384_KEY, ts.ALG_ECDSA, "sha384"),
}


def make(scheme="rsassa", nonce=NONCE, pcrs=PCRS, ak_scheme=None, **kw):
    """(AttestationKey, attest, signature) for one scheme."""
    key, alg, halg = SCHEMES[scheme]
    ak = q.AttestationKey.from_tpm2b_public(
        tpm_build.tpm2b_public(
            key.public_key(),
            scheme=alg if ak_scheme is None else ak_scheme,
            scheme_hash=halg,
        )
    )
    attest = tpm_build.quote_attest(
        nonce, kw.pop("order", ORDER), pcrs, hash_name=halg, **kw
    )
    return ak, attest, tpm_build.sign(key, attest, alg, halg)


def verify(ak, attest, sig, pcrs=PCRS, nonce=NONCE, **kw):
    return q.verify_quote(ak, attest, sig, pcrs, nonce, SELECTION, **kw)


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_good_quote(scheme):
    ak, attest, sig = make(scheme)
    result = verify(ak, attest, sig)
    assert result.pcrs == PCRS
    assert result.hash_name == SCHEMES[scheme][2]
    assert result.clock_info == ts.ClockInfo(1000, 0, 0, True)
    assert not result.reboot


def test_ak_without_scheme_accepts_any_matching_signature():
    ak, attest, sig = make("rsapss", ak_scheme=ts.ALG_NULL)
    assert verify(ak, attest, sig).pcrs == PCRS


def test_signature_scheme_differs_from_ak():
    ak, attest, _ = make("rsassa")
    sig = tpm_build.sign(RSA_KEY, attest, ts.ALG_RSAPSS)
    with pytest.raises(errors.SignatureInvalid, match="scheme differs"):
        verify(ak, attest, sig)


@pytest.mark.parametrize(
    "signer,scheme,halg",
    [(P256_KEY, ts.ALG_ECDSA, "sha256"), (RSA_KEY, ts.ALG_RSASSA, "sha256")],
)
def test_signature_of_wrong_key_type(signer, scheme, halg):
    other = RSA_KEY if signer is P256_KEY else P256_KEY
    ak = q.AttestationKey.from_tpm2b_public(
        tpm_build.tpm2b_public(other.public_key(), scheme=ts.ALG_NULL)
    )
    attest = tpm_build.quote_attest(NONCE, ORDER, PCRS)
    sig = tpm_build.sign(signer, attest, scheme, halg)
    with pytest.raises(errors.SignatureInvalid, match="non-"):
        verify(ak, attest, sig)


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_tampered_attest(scheme):
    ak, attest, sig = make(scheme)
    with pytest.raises(errors.SignatureInvalid):
        verify(ak, attest[:-1] + bytes([attest[-1] ^ 1]), sig)


def test_other_key():
    ak, attest, _ = make("rsassa")
    other = rsa.generate_private_key(65537, 2048)
    with pytest.raises(errors.SignatureInvalid):
        verify(ak, attest, tpm_build.sign(other, attest))


def test_ecdsa_out_of_range_signature():
    ak, attest, _ = make("p256")
    head = struct.pack(">HH", ts.ALG_ECDSA, ts.ALG_SHA256)
    sig = head + tpm_build.tpm2b(b"") + tpm_build.tpm2b(b"\x01")
    with pytest.raises(errors.SignatureInvalid):
        verify(ak, attest, sig)


def test_sha1_signature_unsupported():
    ak, attest, _ = make("rsassa", ak_scheme=ts.ALG_NULL)
    sig = struct.pack(">HH", ts.ALG_RSASSA, ts.ALG_SHA1) + tpm_build.tpm2b(
        bytes(256)
    )
    with pytest.raises(errors.UnsupportedAlgorithm):
        verify(ak, attest, sig)


def test_hmac_signature_unsupported():
    ak, attest, _ = make("rsassa")
    sig = struct.pack(">HH", ts.ALG_HMAC, ts.ALG_SHA256) + bytes(32)
    with pytest.raises(errors.MalformedInput, match="unsupported scheme"):
        verify(ak, attest, sig)


def test_wrong_nonce():
    ak, attest, sig = make(nonce=b"other nonce")
    with pytest.raises(errors.NonceMismatch):
        verify(ak, attest, sig)


def test_bad_magic_is_malformed_even_when_signed():
    ak, attest, sig = make(magic=0x12345678)
    with pytest.raises(errors.MalformedInput, match="magic"):
        verify(ak, attest, sig)


def test_not_a_quote():
    ak, attest, sig = make(st=0x8017)  # TPM_ST_ATTEST_CERTIFY
    with pytest.raises(errors.MalformedInput, match="not a quote"):
        verify(ak, attest, sig)


@pytest.mark.parametrize(
    "order",
    [
        [("sha256", range(11))],
        [("sha256", range(10)), ("sha1", range(11))],
        [("sha256", range(11)), ("sha1", range(11)), ("sha384", [0])],
        [("sha256", range(11)), ("sha256", range(11))],
    ],
)
def test_selection_mismatch(order):
    pcrs = dict(PCRS, sha384={0: bytes(48)})
    ak, attest, sig = make(order=order, pcrs=pcrs)
    with pytest.raises(errors.PCRSelectionMismatch):
        verify(ak, attest, sig)


def test_selection_order_of_banks_is_followed():
    order = [("sha1", range(11)), ("sha256", range(11))]
    ak, attest, sig = make(order=order)
    assert verify(ak, attest, sig).pcrs == PCRS


def test_altered_pcr_value():
    ak, attest, sig = make()
    forged = {b: dict(v) for b, v in PCRS.items()}
    forged["sha256"][10] = bytes(32)
    with pytest.raises(errors.PCRDigestMismatch):
        verify(ak, attest, sig, pcrs=forged)


def test_wrong_digest_in_attest():
    ak, attest, sig = make(digest=bytes(32))
    with pytest.raises(errors.PCRDigestMismatch):
        verify(ak, attest, sig)


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p["sha256"].pop(3),
        lambda p: p["sha1"].__setitem__(4, b"short"),
        lambda p: p.pop("sha1"),
        lambda p: p["sha1"].__setitem__(15, bytes(20)),
        lambda p: p.__setitem__("sha384", {0: bytes(48)}),
    ],
)
def test_reported_values_do_not_fit_selection(change):
    ak, attest, sig = make()
    pcrs = {b: dict(v) for b, v in PCRS.items()}
    change(pcrs)
    with pytest.raises(errors.MalformedInput, match="PCR values"):
        verify(ak, attest, sig, pcrs=pcrs)


def test_clock_replay_same_quote():
    ak, attest, sig = make()
    first = verify(ak, attest, sig)
    with pytest.raises(errors.ClockError, match="did not advance"):
        verify(ak, attest, sig, previous=first.clock_info)


@pytest.mark.parametrize(
    "prev,cur,reboot",
    [
        ((1000, 3, 2), (1001, 3, 2), False),
        ((1000, 3, 2), (10, 3, 3), False),  # TPM restart (resume)
        ((1000, 3, 2), (10, 4, 0), True),  # TPM reset (reboot)
    ],
)
def test_clock_accepted(prev, cur, reboot):
    previous = ts.ClockInfo(prev[0], prev[1], prev[2], True)
    ak, attest, sig = make(
        clock=cur[0], reset_count=cur[1], restart_count=cur[2]
    )
    assert verify(ak, attest, sig, previous=previous).reboot is reboot


@pytest.mark.parametrize(
    "prev,cur,match",
    [
        ((1000, 3, 2), (1000, 3, 2), "did not advance"),
        ((1000, 3, 2), (999, 3, 2), "did not advance"),
        ((1000, 3, 2), (2000, 3, 1), "restartCount went back"),
        ((1000, 3, 2), (2000, 2, 9), "resetCount went back"),
    ],
)
def test_clock_rejected(prev, cur, match):
    previous = ts.ClockInfo(prev[0], prev[1], prev[2], True)
    ak, attest, sig = make(
        clock=cur[0], reset_count=cur[1], restart_count=cur[2]
    )
    with pytest.raises(errors.ClockError, match=match):
        verify(ak, attest, sig, previous=previous)


def test_attestation_key_must_sign():
    public = tpm_build.tpm2b_public(
        RSA_KEY.public_key(), attributes=ts.OBJ_DECRYPT
    )
    with pytest.raises(errors.MalformedInput, match="not a signing key"):
        q.AttestationKey.from_tpm2b_public(public)


def test_attestation_key_name():
    public = tpm_build.tpm2b_public(P256_KEY.public_key(), scheme=ts.ALG_ECDSA)
    ak = q.AttestationKey.from_tpm2b_public(public)
    assert ak.name == b"\x00\x0b" + hashlib.sha256(public[2:]).digest()


def test_attest_not_bytes():
    ak, _attest, sig = make()
    with pytest.raises(errors.MalformedInput):
        verify(ak, "text", sig)


# -- parsers never raise anything but our declared errors -----------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_parse_attest_arbitrary_bytes(data):
    try:
        ts.parse_attest(data)
    except errors.MalformedInput:
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40), st.integers(0, 200))
def test_parse_attest_mutated(tail, cut):
    _ak, attest, _sig = make()
    data = attest[: min(cut, len(attest))] + tail
    try:
        ts.parse_attest(data)
    except errors.MalformedInput:
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_parse_signature_arbitrary_bytes(data):
    try:
        ts.parse_signature(data)
    except errors.MalformedInput:
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_parse_public_arbitrary_bytes(data):
    try:
        tpm_public.parse_public(data).public_key()
    except errors.MalformedInput:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.binary(max_size=300))
def test_verify_quote_arbitrary_bytes(attest, sig):
    ak, _attest, _sig = make()
    with pytest.raises(errors.AttestationError):
        verify(ak, attest, sig)


def test_pure_core_imports():
    root = pathlib.Path(q.__file__).parent
    allowed = {"acaas_nova", "cryptography"}
    for name in (
        "quote",
        "tpm_structs",
        "tpm_public",
        "credential",
        "ekcert",
        "registration",
    ):
        tree = ast.parse((root / (name + ".py")).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                top = node.module.split(".")[0]
            elif isinstance(node, ast.Import):
                top = node.names[0].name.split(".")[0]
            else:
                continue
            assert top in allowed or top in _stdlib(), (name, top)


def _stdlib():
    import sys

    return sys.stdlib_module_names
