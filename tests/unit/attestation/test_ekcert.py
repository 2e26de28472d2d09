"""EK certificate path validation: RFC 5280 plus the TCG EK profile.

Every refusal has its own error class (and event id); the chains come
from :mod:`acaas_nova.evidence.ek_build`.
"""

import datetime
import pathlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from acaas_nova.attestation import ekcert
from acaas_nova.attestation import errors
from acaas_nova.attestation import registration
from acaas_nova.evidence import ek_build
from acaas_nova.evidence import tpm_build

NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)
EK = rsa.generate_private_key(65537, 2048)
EK_ECC = ec.generate_private_key(ec.SECP256R1())
ROOT = ek_build.CertificateAuthority("EK root", now=NOW)
INTER = ROOT.intermediate("EK issuing CA")
AK = tpm_build.tpm2b_public(
    ec.generate_private_key(ec.SECP256R1()).public_key(),
    scheme=tpm_build.ts.ALG_ECDSA,
)


def verify(cert, anchors=(ROOT,), intermediates=(INTER,), crls=()):
    return ekcert.verify_chain(
        cert,
        [a.cert for a in anchors],
        [i.cert for i in intermediates],
        NOW,
        crls,
    )


def test_profile_conforming_chain_is_accepted():
    chain = verify(INTER.ek_certificate(EK.public_key()))
    assert [c.subject for c in chain[1:]] == [
        INTER.cert.subject,
        ROOT.cert.subject,
    ]
    verify(INTER.ek_certificate(EK_ECC.public_key()))


def test_key_usage_alone_is_an_ek_usage():
    # No EKU but keyEncipherment (RSA) / keyAgreement (ECC): accepted.
    verify(INTER.ek_certificate(EK.public_key(), eku=[]))
    verify(INTER.ek_certificate(EK_ECC.public_key(), eku=[]))


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        (
            dict(end=NOW - DAY, start=NOW - 9 * DAY),
            errors.EKCertificateExpired,
            "expired",
        ),
        (dict(start=NOW + DAY), errors.EKCertificateNotYetValid, "valid from"),
        (dict(eku=[], usage=None), errors.EKCertificateUsage, "neither"),
        (
            dict(eku=[ExtendedKeyUsageOID.SERVER_AUTH]),
            errors.EKCertificateUsage,
            "lacks the TCG EK",
        ),
        (
            dict(eku=[], usage=ek_build._usage(digital_signature=True)),
            errors.EKCertificateUsage,
            "neither keyEncipherment nor keyAgreement",
        ),
        (
            dict(
                usage=ek_build._usage(
                    key_encipherment=True, key_cert_sign=True
                )
            ),
            errors.EKCertificateUsage,
            "sign certificates",
        ),
        (dict(ca=True), errors.EKCertificateUsage, "is a CA"),
        (
            dict(critical_unknown=True),
            errors.EKCertificateCriticalExtension,
            ek_build.UNKNOWN_OID.dotted_string,
        ),
    ],
)
def test_ek_certificate_refusals(kwargs, error, match):
    cert = INTER.ek_certificate(EK.public_key(), **kwargs)
    with pytest.raises(error, match=match):
        verify(cert)


def test_software_key_certified_without_the_ek_profile_is_refused():
    # The reported attack: a bundle CA issued a plain TLS-style
    # certificate for a software key; it must not pass as an EK.
    cert = INTER.ek_certificate(
        EK.public_key(),
        eku=[ExtendedKeyUsageOID.CLIENT_AUTH],
        usage=ek_build._usage(digital_signature=True),
    )
    with pytest.raises(errors.EKCertificateUsage):
        verify(cert)


def test_chain_only_through_an_untrusted_intermediate():
    # The node sends an intermediate of its own making, with the real
    # intermediate's name: it chains to nothing trusted.
    rogue_root = ek_build.CertificateAuthority("EK root", now=NOW)
    rogue = rogue_root.intermediate("EK issuing CA")
    cert = rogue.ek_certificate(EK.public_key())
    with pytest.raises(errors.EKIssuerInvalid, match="untrusted issuer"):
        verify(cert, intermediates=(rogue,))
    with pytest.raises(errors.EKIssuerInvalid, match="no trusted CA signed"):
        verify(cert, intermediates=())


def test_issuer_without_key_cert_sign():
    weak = ROOT.intermediate("no certsign", key_cert_sign=False)
    with pytest.raises(errors.EKIssuerInvalid, match="keyCertSign"):
        verify(weak.ek_certificate(EK.public_key()), intermediates=(weak,))


def test_issuer_that_is_not_a_ca():
    leaf = ROOT.intermediate("not a CA", ca=False)
    with pytest.raises(errors.EKIssuerInvalid, match="is not a CA"):
        verify(leaf.ek_certificate(EK.public_key()), intermediates=(leaf,))


def test_path_length_constraint():
    short = ek_build.CertificateAuthority("short root", now=NOW, path_length=0)
    middle = short.intermediate("middle")
    with pytest.raises(errors.EKIssuerInvalid, match="allows 0 CA"):
        verify(
            middle.ek_certificate(EK.public_key()),
            anchors=(short,),
            intermediates=(middle,),
        )


def test_revoked_by_crl():
    cert = INTER.ek_certificate(EK.public_key())
    crl = INTER.crl([cert])
    with pytest.raises(errors.EKCertificateRevoked, match="revoked"):
        verify(cert, crls=[crl])
    # A CRL that does not list it, or one signed by someone else, is no bar.
    verify(cert, crls=[INTER.crl([])])
    forged = ek_build.CertificateAuthority("EK issuing CA", now=NOW).crl(
        [cert]
    )
    verify(cert, crls=[forged])


def test_revoked_intermediate():
    cert = INTER.ek_certificate(EK.public_key())
    with pytest.raises(errors.EKCertificateRevoked, match="issuer"):
        verify(cert, crls=[ROOT.crl([INTER.cert])])


def test_crls_through_registration_pem_and_der():
    cert = INTER.ek_certificate(EK.public_key())
    crl = INTER.crl([cert])
    from cryptography.hazmat.primitives import serialization

    for data in (
        crl.public_bytes(serialization.Encoding.PEM),
        crl.public_bytes(serialization.Encoding.DER),
    ):
        with pytest.raises(errors.EKCertificateRevoked):
            registration.begin(
                ek_build.der(cert),
                ek_build.ek_public(EK.public_key()),
                AK,
                ek_build.pem(ROOT.cert, INTER.cert),
                now=NOW,
                crls=data,
            )


@pytest.mark.parametrize(
    "data", [b"garbage", b"-----BEGIN X509 CRL-----\nxx", 7]
)
def test_unreadable_crls(data):
    with pytest.raises(errors.EKCertificateInvalid, match="CRL"):
        ekcert.load_crls(data)


def test_every_refusal_has_its_own_event_id():
    classes = [
        errors.EKCertificateExpired,
        errors.EKCertificateNotYetValid,
        errors.EKCertificateUsage,
        errors.EKCertificateCriticalExtension,
        errors.EKIssuerInvalid,
        errors.EKCertificateRevoked,
        errors.EKTemplateMismatch,
        errors.AKAttributesInvalid,
    ]
    ids = [c.event_id for c in classes] + [
        errors.EKCertificateInvalid.event_id
    ]
    assert len(set(ids)) == len(ids)
    assert all(issubclass(c, errors.AttestationError) for c in classes)


def test_not_a_certificate_object():
    with pytest.raises(errors.EKCertificateInvalid):
        ekcert.verify_chain(b"der", [ROOT.cert], [], NOW)
    assert isinstance(ROOT.cert, x509.Certificate)


# -- regressions found by tests/fuzz/fuzz_ek_certificate.py -----------------


def test_fuzz_regression_invalid_x509_version():
    # cryptography raised x509.InvalidVersion (not a ValueError).
    data = (
        pathlib.Path(__file__).parent / "data/fuzz/ekcert-invalid-version.der"
    ).read_bytes()
    with pytest.raises(errors.EKCertificateInvalid, match="cannot parse"):
        ekcert.load_certificate(data)


@pytest.mark.parametrize(
    "name",
    [
        "ekcert-extension-keyerror.der",  # KeyError from cryptography
        "ekcert-x400-general-name.der",  # UnsupportedGeneralNameType
    ],
)
def test_fuzz_regression_extension_that_cryptography_cannot_decode(name):
    data = (pathlib.Path(__file__).parent / "data/fuzz" / name).read_bytes()
    cert = ekcert.load_certificate(data)
    with pytest.raises(
        errors.EKCertificateInvalid, match="malformed extensions"
    ):
        ekcert.verify_chain(cert, [ROOT.cert], [INTER.cert], NOW)


def test_fuzz_regression_issuer_name_cryptography_cannot_decode():
    data = (
        pathlib.Path(__file__).parent / "data/fuzz/ekcert-issuer-keyerror.der"
    ).read_bytes()
    cert = ekcert.load_certificate(data)
    with pytest.raises(errors.EKCertificateInvalid):
        ekcert.verify_chain(cert, [ROOT.cert], [INTER.cert], NOW)
