"""Every public verification function, every argument, every bad value:
only the project's own exceptions come out.

Each case starts from a valid call, replaces one argument by a badly
typed or malformed value (None, numbers, str for bytes, lists for
mappings, short, oversized and non-UTF-8 buffers ...) and checks that the
call either succeeds or raises an :class:`ACaaSException` -- never
TypeError, IndexError, AttributeError, struct.error, UnicodeDecodeError
or anything else.  Third-party formats (PEM AKs, hex nonces, tpm2-tools
PCR output) are accepted.
"""

import datetime
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa

from acaas_nova.attestation import ekcert
from acaas_nova.attestation import errors
from acaas_nova.attestation import ima
from acaas_nova.attestation import ima_replay
from acaas_nova.attestation import inputs
from acaas_nova.attestation import quote as q
from acaas_nova.attestation import registration
from acaas_nova.attestation import tpm_public
from acaas_nova.attestation import tpm_structs as ts
from acaas_nova.attestation import whitelist
from acaas_nova.evidence import ek_build
from acaas_nova.evidence import ima_build
from acaas_nova.evidence import tpm_build
from acaas_nova.exception import ACaaSException

NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)
AK_KEY = ec.generate_private_key(ec.SECP256R1())
AK_PUB = tpm_build.tpm2b_public(AK_KEY.public_key(), scheme=ts.ALG_ECDSA)
EK_KEY = rsa.generate_private_key(65537, 2048)
CA = ek_build.CertificateAuthority("EK root", now=NOW)
EK_CERT = ek_build.der(CA.ek_certificate(EK_KEY.public_key()))
EK_PUB = ek_build.ek_public(EK_KEY.public_key())
BUNDLE = ek_build.pem(CA.cert)

NONCE = b"n" * 32
SELECTION = {"sha256": tuple(range(11))}
LOG = ima_build.LogBuilder(("sha256",))
PCRS = {"sha256": {i: hashlib.sha256(b"%d" % i).digest() for i in range(10)}}
LOG.add_boot_aggregate(PCRS)
LOG.add_file("/usr/bin/x", b"x")
PCRS["sha256"][10] = LOG.pcr10["sha256"]
ATTEST = tpm_build.quote_attest(NONCE, [("sha256", range(11))], PCRS)
SIGNATURE = tpm_build.sign(AK_KEY, ATTEST, ts.ALG_ECDSA)
WL_DOC = whitelist.generate("wl", "1", LOG.text(), PCRS).to_dict()


class Opaque:
    pass


BAD = [
    None,
    0,
    -1,
    2**70,
    1.5,
    True,
    "",
    "x",
    "zz",
    "é",
    "\x00\n",
    b"",
    b"\x00",
    b"\xff\xfe\xfd",
    b"\xc3\x28" * 50,
    b"\x00" * 70000,
    bytearray(b"\x01\x02"),
    [],
    [1, 2],
    [b"x"],
    {},
    {"a": 1},
    {"sha256": [1]},
    {"sha256": {"0": 5}},
    {1: {1: b"x"}},
    (),
    Opaque(),
    float("nan"),
]


def _ak():
    return q.AttestationKey.from_tpm2b_public(AK_PUB)


CASES = {
    "verify_quote": (
        q.verify_quote,
        dict(
            ak=_ak(),
            attest=ATTEST,
            signature=SIGNATURE,
            pcrs=PCRS,
            nonce=NONCE,
            selection=SELECTION,
            previous=None,
        ),
    ),
    "AttestationKey.load": (q.AttestationKey.load, dict(data=AK_PUB)),
    "parse_attest": (ts.parse_attest, dict(data=ATTEST)),
    "parse_signature": (ts.parse_signature, dict(data=SIGNATURE)),
    "parse_public": (tpm_public.parse_public, dict(data=AK_PUB)),
    "ima.parse": (
        ima.parse,
        dict(text=LOG.text(), first_entry=0, check=True),
    ),
    "ima.parse_entry": (
        ima.parse_entry,
        dict(line=LOG.lines[1], index=1, lineno=2),
    ),
    "ima.lint": (ima.lint, dict(text=LOG.text(), first_entry=0)),
    "ima_replay.verify": (
        ima_replay.verify,
        dict(
            text=LOG.text(),
            quoted_pcr=LOG.pcr10["sha256"],
            state=None,
            first_entry=0,
            boot_pcrs=PCRS,
            bank="sha256",
        ),
    ),
    "registration.begin": (
        registration.begin,
        dict(
            ek_certificate=EK_CERT,
            ek_public=EK_PUB,
            ak_public=AK_PUB,
            ca_bundle=BUNDLE,
            intermediates=[],
            now=NOW,
        ),
    ),
    "registration.ek_fingerprint": (
        registration.ek_fingerprint,
        dict(ek=EK_PUB),
    ),
    "ekcert.load_certificate": (ekcert.load_certificate, dict(data=EK_CERT)),
    "ekcert.load_bundle": (ekcert.load_bundle, dict(pem=BUNDLE)),
    "whitelist.load": (whitelist.load, dict(document=WL_DOC)),
}

PARAMS = [
    pytest.param(name, arg, i, id="%s-%s-%d" % (name, arg, i))
    for name, (_, kwargs) in CASES.items()
    for arg in kwargs
    for i in range(len(BAD))
]


def test_valid_calls_succeed():
    for func, kwargs in CASES.values():
        func(**kwargs)


@pytest.mark.parametrize("name,arg,i", PARAMS)
def test_bad_argument_raises_only_our_exceptions(name, arg, i):
    func, kwargs = CASES[name]
    kwargs = dict(kwargs, **{arg: BAD[i]})
    try:
        func(**kwargs)
    except ACaaSException as exc:
        assert str(exc) and "\n" not in str(exc)[:200].strip("\n")


def test_finish_and_ak_certificate_bad_arguments():
    challenge = registration.begin(EK_CERT, EK_PUB, AK_PUB, BUNDLE, now=NOW)
    for bad in BAD:
        with pytest.raises(ACaaSException):
            registration.finish(challenge, bad, None, None)
        with pytest.raises(ACaaSException):
            registration.finish(bad, b"x" * 32, None, None)
        with pytest.raises(ACaaSException):
            registration.verify_ak_certificate(bad, CA.cert)


# -- third-party formats ----------------------------------------------------


def test_ak_as_pem_verifies_the_same_quote():
    pem = AK_KEY.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    for ak in (pem, pem.decode(), q.AttestationKey.load(pem)):
        result = q.verify_quote(ak, ATTEST, SIGNATURE, PCRS, NONCE, SELECTION)
        assert result.pcrs == PCRS
    assert q.AttestationKey.load(pem).name is None
    with pytest.raises(errors.SignatureInvalid):
        other = ec.generate_private_key(ec.SECP256R1()).public_key()
        q.verify_quote(
            other.public_bytes(
                serialization.Encoding.PEM,
                serialization.PublicFormat.SubjectPublicKeyInfo,
            ),
            ATTEST,
            SIGNATURE,
            PCRS,
            NONCE,
            SELECTION,
        )


def test_unsupported_pem_keys():
    from cryptography.hazmat.primitives.asymmetric import ed25519

    for key in (
        ed25519.Ed25519PrivateKey.generate().public_key(),
        rsa.generate_private_key(65537, 1024).public_key(),
    ):
        pem = key.public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        with pytest.raises(errors.UnsupportedAlgorithm):
            q.AttestationKey.load(pem)
    with pytest.raises(errors.MalformedInput):
        q.AttestationKey.load(b"-----BEGIN PUBLIC KEY-----\nxx\n")


def test_nonce_as_hex_text_and_pcrs_as_hex_and_text_indices():
    pcrs = {"sha256": {str(i): v.hex() for i, v in PCRS["sha256"].items()}}
    for nonce in (NONCE.hex(), "0x" + NONCE.hex(), NONCE.hex().upper()):
        result = q.verify_quote(
            _ak(), ATTEST, SIGNATURE, pcrs, nonce, SELECTION
        )
        assert result.pcrs == PCRS


def test_pcrs_from_tpm2_tools_printed_output():
    text = "sha256:\n" + "".join(
        "  %-2d: 0x%s\n" % (i, v.hex().upper())
        for i, v in PCRS["sha256"].items()
    )
    result = q.verify_quote(_ak(), ATTEST, SIGNATURE, text, NONCE, SELECTION)
    assert result.pcrs == PCRS


def test_pcrs_from_tpm2_tools_values_file():
    data = b"".join(PCRS["sha256"][i] for i in range(11))
    result = q.verify_quote(_ak(), ATTEST, SIGNATURE, data, NONCE, SELECTION)
    assert result.pcrs == PCRS


@pytest.mark.parametrize(
    "value,result",
    [
        (b"ab", b"ab"),
        ("6162", b"ab"),
        ("0x6162", b"ab"),
        (bytearray(b"ab"), b"ab"),
        (memoryview(b"ab"), b"ab"),
    ],
)
def test_nonce_forms(value, result):
    assert inputs.nonce(value) == result


@pytest.mark.parametrize(
    "value", [b"", "", "616", "6g", "x" * 200, b"x" * 65, None, 5, [b"a"]]
)
def test_bad_nonces(value):
    with pytest.raises(errors.MalformedInput, match="nonce"):
        inputs.nonce(value)


def test_fuzz_regression_pem_ak_on_an_unknown_curve():
    # Found by tests/fuzz/fuzz_tpm2b_public.py: cryptography's own
    # UnsupportedAlgorithm escaped from AttestationKey.load.
    import pathlib

    pem = (
        pathlib.Path(__file__).parent / "data/fuzz/ak-pem-unknown-curve.pem"
    ).read_bytes()
    with pytest.raises(errors.UnsupportedAlgorithm, match="Curve"):
        q.AttestationKey.load(pem)


@pytest.mark.parametrize(
    "values",
    [
        {i: bytes(32) for i in range(11)},
        {0: bytes(31)},
        {True: bytes(32)},
        {24: bytes(32)},
        {-1: bytes(32)},
        {0: bytearray(32)},
        {0: "00" * 32},
        {"0": bytes(32)},
        {},
    ],
)
def test_canonical_fast_path_agrees_with_the_checks(values):
    """pcr_values' fast path for canonical dicts gives what the per-value
    checks give, and takes nothing they refuse."""

    def run():
        try:
            return inputs.pcr_values({"sha256": values})
        except errors.MalformedInput as exc:
            return type(exc)

    fast = run()
    original = inputs._canonical_bank
    inputs._canonical_bank = lambda *a: None
    try:
        assert run() == fast
    finally:
        inputs._canonical_bank = original
