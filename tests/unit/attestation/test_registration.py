"""Registration: EK certificate chains, MakeCredential, AK certificates.

No TPM here: EKs and AKs are ``cryptography`` keys in hand-built public
areas, and the TPM's ActivateCredential is redone in software to check
what MakeCredential produced.
"""

import datetime
import hashlib
import hmac
import struct

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.ciphers import modes
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from acaas_nova.attestation import credential
from acaas_nova.attestation import ekcert
from acaas_nova.attestation import errors
from acaas_nova.attestation import registration
from acaas_nova.attestation import tpm_public
from acaas_nova.attestation import tpm_structs as ts
from acaas_nova.evidence import ek_build
from acaas_nova.evidence import tpm_build

NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)
EK_ATTRS = (
    ts.OBJ_FIXED_TPM
    | ts.OBJ_FIXED_PARENT
    | ts.OBJ_SENSITIVE_DATA_ORIGIN
    | ts.OBJ_RESTRICTED
    | ts.OBJ_DECRYPT
)
AES128_CFB = (ts.ALG_AES, 128, ts.ALG_CFB)
AES256_CFB = (ts.ALG_AES, 256, ts.ALG_CFB)

EK_RSA = rsa.generate_private_key(65537, 2048)
EK_P384 = ec.generate_private_key(ec.SECP384R1())
AK_KEY = ec.generate_private_key(ec.SECP256R1())


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject_key, issuer_key, subject, issuer, ca, eku=None, **kw):
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(kw.get("start", NOW - datetime.timedelta(days=1)))
        .not_valid_after(kw.get("end", NOW + datetime.timedelta(days=365)))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), True)
    )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(*certs):
    from cryptography.hazmat.primitives.serialization import Encoding

    return b"".join(c.public_bytes(Encoding.PEM) for c in certs)


def _der(cert):
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.DER)


class PKI:
    """A root CA, an intermediate, and EK certificates they issue."""

    def __init__(self, name="tpm-ca"):
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.int_key = ec.generate_private_key(ec.SECP256R1())
        self.root = _cert(self.root_key, self.root_key, "root", "root", True)
        self.inter = _cert(self.int_key, self.root_key, name, "root", True)
        self.bundle = _pem(self.root, self.inter)

    def ek_cert(self, key, eku=None, **kw):
        if eku is None:
            eku = [ekcert.TCG_EK_CERTIFICATE_OID]
        return _cert(key, self.int_key, "ek", "tpm-ca", False, eku, **kw)


PKI_A = PKI()
PKI_B = PKI()  # same names as PKI_A, other keys


def ek_public(key=EK_RSA, symmetric=AES128_CFB, name_alg="sha256", **kw):
    """The EK's TPM2B_PUBLIC: a TCG default template unless attributes or
    symmetric are overridden (then hand-built, for MakeCredential)."""
    if "attributes" not in kw and symmetric is not None:
        if isinstance(key, rsa.RSAPrivateKey):
            template = "L-1"
        elif key.curve.name == "secp384r1":
            template = "H-3"
        else:
            template = "L-2"
        return ek_build.ek_public(key.public_key(), template)
    return tpm_build.tpm2b_public(
        key.public_key(),
        scheme=ts.ALG_NULL,
        attributes=kw.get("attributes", EK_ATTRS),
        symmetric=symmetric,
        name_alg=name_alg,
    )


def ak_public(key=AK_KEY, attributes=tpm_build.AK_ATTRIBUTES):
    return tpm_build.tpm2b_public(
        key.public_key(), scheme=ts.ALG_ECDSA, attributes=attributes
    )


def begin(cert=None, ek=None, ak=None, bundle=None, **kw):
    return registration.begin(
        _der(cert or PKI_A.ek_cert(EK_RSA)),
        ek or ek_public(),
        ak or ak_public(),
        bundle or PKI_A.bundle,
        now=NOW,
        **kw,
    )


# -- the TPM's side, in software --------------------------------------------


def activate(ek_private, ek_pub: bytes, ak_name: bytes, blob, secret):
    """TPM2_ActivateCredential redone with ``cryptography``."""
    ek = tpm_public.parse_public(ek_pub)
    size = ts.HASH_SIZES[ek.name_alg]
    algo = {"sha256": hashes.SHA256, "sha384": hashes.SHA384}[ek.name_alg]
    enc_seed = secret[2:]
    if ek.type == ts.ALG_RSA:
        seed = ek_private.decrypt(
            enc_seed,
            padding.OAEP(padding.MGF1(algo()), algo(), b"IDENTITY\0"),
        )
    else:
        width = tpm_public.curve_size(ek.curve)
        x = enc_seed[2 : 2 + width]
        y = enc_seed[4 + width :]
        point = ec.EllipticCurvePublicNumbers(
            int.from_bytes(x, "big"),
            int.from_bytes(y, "big"),
            ek_private.curve,
        ).public_key()
        z = ek_private.exchange(ec.ECDH(), point)
        seed = credential.kdfe(
            ek.name_alg, z, b"IDENTITY", x, ek.ecc_x, size * 8
        )
    id_object = blob[2:]
    hmac_size = struct.unpack(">H", id_object[:2])[0]
    outer = id_object[2 : 2 + hmac_size]
    enc_identity = id_object[2 + hmac_size :]
    hmac_key = credential.kdfa(
        ek.name_alg, seed, b"INTEGRITY", b"", b"", size * 8
    )
    expected = hmac.new(hmac_key, enc_identity + ak_name, ek.name_alg)
    if not hmac.compare_digest(outer, expected.digest()):
        raise ValueError("integrity check failed")
    sym = credential.kdfa(
        ek.name_alg, seed, b"STORAGE", ak_name, b"", ek.sym_bits
    )
    dec = Cipher(algorithms.AES(sym), modes.CFB(bytes(16))).decryptor()
    plain = dec.update(enc_identity) + dec.finalize()
    return plain[2 : 2 + struct.unpack(">H", plain[:2])[0]]


# -- EK certificate chains ----------------------------------------------------


def test_good_registration_rsa_ek():
    challenge = begin()
    secret = activate(
        EK_RSA,
        ek_public(),
        challenge.ak_name,
        challenge.credential_blob,
        challenge.encrypted_secret,
    )
    assert hashlib.sha256(secret).digest() == challenge.secret_digest
    assert challenge.ak_name == tpm_public.parse_public(ak_public()).name


def test_good_registration_p384_ek_high_range():
    ek = ek_public(EK_P384, AES256_CFB, "sha384")
    challenge = begin(cert=PKI_A.ek_cert(EK_P384), ek=ek)
    secret = activate(
        EK_P384,
        ek,
        challenge.ak_name,
        challenge.credential_blob,
        challenge.encrypted_secret,
    )
    assert hashlib.sha256(secret).digest() == challenge.secret_digest


def test_intermediate_supplied_by_the_node():
    challenge = begin(
        bundle=_pem(PKI_A.root), intermediates=[_der(PKI_A.inter)]
    )
    assert challenge.cid


def test_trailing_nv_padding_and_pem_accepted():
    cert = PKI_A.ek_cert(EK_RSA)
    registration.begin(
        _der(cert) + b"\xff" * 30,
        ek_public(),
        ak_public(),
        PKI_A.bundle,
        now=NOW,
    )
    registration.begin(
        _pem(cert), ek_public(), ak_public(), PKI_A.bundle, now=NOW
    )


def test_certificate_from_another_ca_with_same_names():
    with pytest.raises(errors.EKCertificateInvalid, match="no trusted CA"):
        begin(cert=PKI_B.ek_cert(EK_RSA))


def test_intermediate_missing():
    with pytest.raises(errors.EKCertificateInvalid, match="no trusted CA"):
        begin(bundle=_pem(PKI_A.root))


@pytest.mark.parametrize(
    "start,end,error",
    [
        (
            NOW + datetime.timedelta(days=1),
            NOW + datetime.timedelta(days=2),
            errors.EKCertificateNotYetValid,
        ),
        (
            NOW - datetime.timedelta(days=2),
            NOW - datetime.timedelta(days=1),
            errors.EKCertificateExpired,
        ),
    ],
)
def test_certificate_not_valid_now(start, end, error):
    with pytest.raises(error, match="EK certificate"):
        begin(cert=PKI_A.ek_cert(EK_RSA, start=start, end=end))


def test_issuer_that_is_not_a_ca():
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    not_ca = _cert(leaf_key, PKI_A.root_key, "tpm-ca", "root", False)
    cert = _cert(
        EK_RSA,
        leaf_key,
        "ek",
        "tpm-ca",
        False,
        [ekcert.TCG_EK_CERTIFICATE_OID],
    )
    with pytest.raises(errors.EKIssuerInvalid, match="is not a CA"):
        begin(cert=cert, bundle=_pem(not_ca))


def test_wrong_extended_key_usage():
    cert = PKI_A.ek_cert(EK_RSA, eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    with pytest.raises(errors.EKCertificateInvalid, match="key usage"):
        begin(cert=cert)


@pytest.mark.parametrize("data", [b"", b"garbage", b"0\x82\x00\x05abcde"])
def test_unparseable_certificate(data):
    with pytest.raises(errors.EKCertificateInvalid, match="cannot parse"):
        registration.begin(data, ek_public(), ak_public(), PKI_A.bundle)


def test_unreadable_bundle():
    with pytest.raises(errors.EKCertificateInvalid, match="bundle"):
        begin(bundle=b"not pem")


def test_ek_public_does_not_match_certificate():
    other = rsa.generate_private_key(65537, 2048)
    with pytest.raises(errors.EKCertificateInvalid, match="does not match"):
        begin(ek=ek_public(other))


# -- AK checks ----------------------------------------------------------------


@pytest.mark.parametrize(
    "clear",
    [
        ts.OBJ_RESTRICTED,
        ts.OBJ_FIXED_TPM,
        ts.OBJ_SIGN,
        ts.OBJ_SENSITIVE_DATA_ORIGIN,
    ],
)
def test_ak_must_be_restricted_signing_fixed(clear):
    attributes = tpm_build.AK_ATTRIBUTES & ~clear
    with pytest.raises(errors.CredentialError, match="restricted signing"):
        begin(ak=ak_public(attributes=attributes))


def test_ak_must_not_decrypt():
    attributes = tpm_build.AK_ATTRIBUTES | ts.OBJ_DECRYPT
    with pytest.raises(errors.CredentialError, match="restricted signing"):
        begin(ak=ak_public(attributes=attributes))


def test_rsa3072_ak_unsupported():
    key = rsa.generate_private_key(65537, 3072)
    with pytest.raises(errors.UnsupportedAlgorithm, match="3072"):
        begin(ak=tpm_build.tpm2b_public(key.public_key()))


# -- MakeCredential ----------------------------------------------------------


def test_credential_for_another_ak_fails_integrity():
    challenge = begin()
    other_name = tpm_public.parse_public(
        ak_public(ec.generate_private_key(ec.SECP256R1()))
    ).name
    with pytest.raises(ValueError, match="integrity"):
        activate(
            EK_RSA,
            ek_public(),
            other_name,
            challenge.credential_blob,
            challenge.encrypted_secret,
        )


def test_make_credential_refuses_non_storage_ek():
    ek = tpm_public.parse_public(ek_public(attributes=tpm_build.AK_ATTRIBUTES))
    with pytest.raises(errors.CredentialError, match="restricted decrypt"):
        credential.make_credential(ek, b"name", b"secret")


def test_make_credential_needs_aes_cfb():
    ek = tpm_public.parse_public(ek_public(symmetric=None))
    with pytest.raises(errors.UnsupportedAlgorithm, match="AES-CFB"):
        credential.make_credential(ek, b"name", b"secret")


@pytest.mark.parametrize("secret", [b"", bytes(33)])
def test_make_credential_secret_size(secret):
    ek = tpm_public.parse_public(ek_public())
    with pytest.raises(errors.CredentialError, match="1-32 bytes"):
        credential.make_credential(ek, b"name", secret)


@settings(max_examples=50, deadline=None)
@given(
    st.binary(min_size=1, max_size=64),
    st.binary(max_size=40),
    st.binary(max_size=40),
    st.sampled_from([128, 256, 384, 520]),
    st.sampled_from(["sha256", "sha384"]),
)
def test_kdfs_agree_with_tpm2_pytss(key, ctx_u, ctx_v, bits, halg):
    """Cross-check against tpm2-pytss's independent implementation."""
    from tpm2_pytss.internal import crypto as pytss_crypto

    alg = ts.HASH_IDS[halg]
    assert credential.kdfa(
        halg, key, b"STORAGE", ctx_u, ctx_v, bits
    ) == pytss_crypto._kdfa(alg, key, b"STORAGE", ctx_u, ctx_v, bits)
    assert credential.kdfe(
        halg, key, b"IDENTITY", ctx_u, ctx_v, bits
    ) == pytss_crypto.kdfe(alg, key, b"IDENTITY\0", ctx_u, ctx_v, bits)


# -- finishing: the AK certificate and the CID -----------------------------


@pytest.fixture(scope="module")
def dcs_ca():
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _cert(key, key, "DC-S CA", "DC-S CA", True)
    return key, cert


def test_finish_issues_ak_certificate(dcs_ca):
    challenge = begin()
    secret = activate(
        EK_RSA,
        ek_public(),
        challenge.ak_name,
        challenge.credential_blob,
        challenge.encrypted_secret,
    )
    pem = registration.finish(challenge, secret, *dcs_ca, now=NOW)
    cert = registration.verify_ak_certificate(pem, dcs_ca[1])
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == challenge.cid
    assert cert.public_key() == AK_KEY.public_key()
    assert not cert.extensions.get_extension_for_class(
        x509.BasicConstraints
    ).value.ca
    other_key = ec.generate_private_key(ec.SECP256R1())
    other_ca = _cert(other_key, other_key, "DC-S CA", "DC-S CA", True)
    with pytest.raises(errors.CredentialError, match="not issued"):
        registration.verify_ak_certificate(pem, other_ca)


def test_finish_rejects_wrong_answer(dcs_ca):
    with pytest.raises(errors.CredentialError, match="not the credential"):
        registration.finish(begin(), bytes(32), *dcs_ca)


def _proof(challenge, secret, node="n1", session="s1", **args):
    from acaas_nova.attestation import channel

    key = channel.derive_key(secret, challenge.cid)
    base = {"host": node, "hypervisor_hostname": node, "session": session}
    base.update(cid=challenge.cid, **args)
    return registration.activation_proof(key, node, session, base)


def test_channel_key_derived_from_the_credential_secret(dcs_ca):
    from acaas_nova.attestation import channel

    challenge = begin()
    secret = activate(
        EK_RSA,
        ek_public(),
        challenge.ak_name,
        challenge.credential_blob,
        challenge.encrypted_secret,
    )
    # Only the TPM holder recovers the secret, so only it derives the key.
    assert challenge.channel_key == channel.derive_key(secret, challenge.cid)
    assert "channel_key" not in repr(challenge)
    assert challenge.channel_key.hex() not in repr(challenge)
    pem = registration.finish_proven(
        challenge, "n1", "s1", _proof(challenge, secret), *dcs_ca, now=NOW
    )
    cert = registration.verify_ak_certificate(pem, dcs_ca[1])
    assert cert.public_key() == AK_KEY.public_key()


@pytest.mark.parametrize(
    "node, session, secret",
    [
        ("n2", "s1", None),  # proof made for another node
        ("n1", "s2", None),  # for another session
        ("n1", "s1", bytes(32)),  # without the secret
    ],
)
def test_activation_proof_must_match(dcs_ca, node, session, secret):
    challenge = begin()
    good = activate(
        EK_RSA,
        ek_public(),
        challenge.ak_name,
        challenge.credential_blob,
        challenge.encrypted_secret,
    )
    proof = _proof(challenge, secret or good, node, session)
    with pytest.raises(errors.CredentialError, match="activation proof"):
        registration.finish_proven(challenge, "n1", "s1", proof, *dcs_ca)
    with pytest.raises(errors.CredentialError, match="activation proof"):
        registration.finish_proven(
            challenge, "n1", "s1", {"cid": challenge.cid}, *dcs_ca
        )


def test_cid_stable_per_ek_and_distinct():
    first, second = begin(), begin()
    assert first.cid == second.cid
    assert first.encrypted_secret != second.encrypted_secret
    p384 = begin(
        cert=PKI_A.ek_cert(EK_P384), ek=ek_public(EK_P384, AES256_CFB)
    )
    assert p384.cid != first.cid


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_certificate_bytes(data):
    try:
        ekcert.load_certificate(data)
    except errors.EKCertificateInvalid:
        pass
