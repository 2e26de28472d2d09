"""The fast path of quote verification never accepts what the general,
field-by-field path refuses, and gives the same result when it accepts."""

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from acaas_nova.attestation import errors
from acaas_nova.attestation import quote as q
from acaas_nova.attestation import tpm_structs as ts
from acaas_nova.evidence import tpm_build
from tests.unit.attestation.test_quote import NONCE
from tests.unit.attestation.test_quote import ORDER
from tests.unit.attestation.test_quote import PCRS
from tests.unit.attestation.test_quote import RSA_KEY
from tests.unit.attestation.test_quote import SELECTION
from tests.unit.attestation.test_quote import make


def _general(ak, attest, sig, pcrs, nonce, selection, previous=None):
    """verify_quote with the fast path out of the way."""
    wanted = q.normalize_selection(selection)
    original = q._fast
    try:
        q._fast = lambda *a: None
        return q.verify_quote(ak, attest, sig, pcrs, nonce, wanted, previous)
    finally:
        q._fast = original


def test_fast_path_taken_and_equal():
    ak, attest, sig = make()
    layout = q._layout(q.normalize_selection(SELECTION))
    fast = q._fast(ak, attest, sig, PCRS, NONCE, layout, None)
    assert fast is not None
    assert fast == _general(ak, attest, sig, PCRS, NONCE, SELECTION)


def test_default_selection_layout_is_cached():
    wanted = q.normalize_selection(q.DEFAULT_SELECTION)
    assert q.normalize_selection(q.DEFAULT_SELECTION) is wanted
    layout = q._layout(wanted)
    assert q._FAST_LAYOUTS[id(q.DEFAULT_SELECTION)] == (
        q.DEFAULT_SELECTION,
        layout,
    )


def test_quote_prefix_learned_only_from_a_verified_quote():
    ak, attest, sig = make()
    layout = q._layout(q.normalize_selection(SELECTION))
    forged = sig[:-1] + bytes([sig[-1] ^ 1])
    with pytest.raises(errors.SignatureInvalid):
        q._fast(ak, attest, forged, PCRS, NONCE, layout, None)
    assert ak.quote_prefixes == {}
    assert q._fast(ak, attest, sig, PCRS, NONCE, layout, None) is not None
    assert attest.startswith(ak.quote_prefixes[len(NONCE)])


@pytest.mark.parametrize("scheme", ["rsapss", "p256"])
def test_other_schemes_take_the_general_path(scheme):
    ak, attest, sig = make(scheme)
    layout = q._layout(q.normalize_selection(SELECTION))
    assert q._fast(ak, attest, sig, PCRS, NONCE, layout, None) is None
    assert q.verify_quote(ak, attest, sig, PCRS, NONCE, SELECTION).pcrs


def test_bad_signature_is_refused_by_the_fast_path():
    ak, attest, sig = make()
    forged = sig[:-1] + bytes([sig[-1] ^ 1])
    layout = q._layout(q.normalize_selection(SELECTION))
    with pytest.raises(errors.SignatureInvalid):
        q._fast(ak, attest, forged, PCRS, NONCE, layout, None)


def test_wrong_nonce_falls_back_to_the_precise_error():
    ak, attest, sig = make()
    with pytest.raises(errors.NonceMismatch):
        q.verify_quote(ak, attest, sig, PCRS, b"m" * 20, SELECTION)


def test_swapped_value_lengths_refused():
    ak, attest, sig = make()
    pcrs = {b: dict(v) for b, v in PCRS.items()}
    # Same concatenation, different split: must not pass.
    pcrs["sha256"][0] = PCRS["sha256"][0] + PCRS["sha256"][1][:1]
    pcrs["sha256"][1] = PCRS["sha256"][1][1:]
    with pytest.raises(errors.MalformedInput):
        q.verify_quote(ak, attest, sig, pcrs, NONCE, SELECTION)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_mutations_never_accepted_by_fast_alone(data):
    """Flip a byte of a validly re-signed attest: whatever the fast path
    accepts, the general path accepts identically."""
    attest = tpm_build.quote_attest(NONCE, ORDER, PCRS)
    index = data.draw(st.integers(0, len(attest) - 1))
    value = data.draw(st.integers(0, 255))
    mutated = attest[:index] + bytes([value]) + attest[index + 1 :]
    ak, genuine, genuine_sig = make()
    layout = q._layout(q.normalize_selection(SELECTION))
    if data.draw(st.booleans()):
        # With the prefix learned from a genuine quote first.
        q._fast(ak, genuine, genuine_sig, PCRS, NONCE, layout, None)
    sig = tpm_build.sign(RSA_KEY, mutated, ts.ALG_RSASSA, "sha256")
    try:
        fast = q._fast(ak, mutated, sig, PCRS, NONCE, layout, None)
    except errors.AttestationError:
        fast = None
    if fast is None:
        return
    assert fast == _general(ak, mutated, sig, PCRS, NONCE, SELECTION)


def _raw_rsa(encoded: bytes) -> bytes:
    """A TPMT_SIGNATURE whose RSA value is the private operation on
    ``encoded`` (an EMSA-PKCS1-v1_5 message built by hand)."""
    numbers = RSA_KEY.private_numbers()
    n = numbers.public_numbers.n
    size = RSA_KEY.key_size // 8
    value = pow(int.from_bytes(encoded, "big"), numbers.d, n)
    head = q._SIG_HEAD.pack(ts.ALG_RSASSA, ts.HASH_IDS["sha256"], size)
    return head + value.to_bytes(size, "big")


def _encoded(tail: bytes, fill: int = 0xFF) -> bytes:
    size = RSA_KEY.key_size // 8
    return (
        b"\x00\x01" + bytes([fill]) * (size - 3 - len(tail)) + b"\x00" + tail
    )


def _sha256(data: bytes) -> bytes:
    import hashlib

    return hashlib.sha256(data).digest()


def test_hand_encoded_genuine_signature_accepted_by_both_paths():
    """The recovery check accepts exactly the RFC 8017 encoding (the
    test's own encoder agrees with cryptography's signer)."""
    ak, attest, sig = make()
    hand = _raw_rsa(_encoded(q._DIGEST_INFO["sha256"] + _sha256(attest)))
    assert hand == sig  # PKCS#1 v1.5 signatures are deterministic
    layout = q._layout(q.normalize_selection(SELECTION))
    assert q._fast(ak, attest, hand, PCRS, NONCE, layout, None) is not None


@pytest.mark.parametrize(
    "name",
    [
        "other_hash_digest_info",
        "digest_info_without_null",
        "bare_digest",
        "trailing_byte",
        "bad_padding_byte",
        "other_message",
    ],
)
def test_near_miss_encodings_refused_by_both_paths(name):
    """Encoded messages that differ from the one valid encoding in one
    way each: the fast path refuses them, like cryptography's verify()."""
    ak, attest, _sig = make()
    digest = _sha256(attest)
    info = q._DIGEST_INFO["sha256"]
    tail = {
        "other_hash_digest_info": q._DIGEST_INFO["sha384"][:-1]
        + b"\x20"
        + digest,
        "digest_info_without_null": bytes.fromhex(
            "302f300b06096086480165030402010420"
        )
        + digest,
        "bare_digest": digest,
        "trailing_byte": info + digest + b"\x00",
        "bad_padding_byte": None,
        "other_message": info + _sha256(attest + b"x"),
    }[name]
    if tail is None:
        encoded = bytearray(_encoded(info + digest))
        encoded[5] = 0xFE  # one padding byte not FF
        forged = _raw_rsa(bytes(encoded))
    else:
        forged = _raw_rsa(_encoded(tail))
    layout = q._layout(q.normalize_selection(SELECTION))
    with pytest.raises(errors.SignatureInvalid):
        q._fast(ak, attest, forged, PCRS, NONCE, layout, None)
    with pytest.raises(errors.SignatureInvalid):
        _general(ak, attest, forged, PCRS, NONCE, SELECTION)
