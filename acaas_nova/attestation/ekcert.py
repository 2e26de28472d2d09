"""Endorsement key certificates: chain to a CA bundle, match the EK.

EK certificates carry the TCG EK extended key usage (2.23.133.8.1) and
often a critical subjectAltName of TPM attributes, which the generic X.509
client-verification policy of ``cryptography`` rejects.  The chain is
therefore walked explicitly: each certificate must be signed by the next,
every issuer must be a CA, every certificate valid at the time of
verification, and the walk must end at a certificate of the configured
bundle.  Issuers are matched by signature, not only by name, since several
CAs may share a subject (every swtpm-localca is ``CN=swtpm-localca``).

Pure: standard library and ``cryptography`` only.
"""

import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from acaas_nova.attestation import errors
from acaas_nova.attestation.tpm_public import PublicArea

#: TCG EK certificate extended key usage (EK Credential Profile 2.0).
TCG_EK_CERTIFICATE_OID = x509.ObjectIdentifier("2.23.133.8.1")
MAX_CHAIN = 6


def load_certificate(data: bytes) -> x509.Certificate:
    """A certificate from DER or PEM bytes, or EKCertificateInvalid.

    Some TPMs pad the NV certificate with trailing bytes; DER is cut to the
    length its outer SEQUENCE declares.
    """
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(_der_prefix(data))
    except (ValueError, TypeError) as exc:
        raise errors.EKCertificateInvalid(
            reason="cannot parse certificate: %s" % exc
        ) from None


def _der_prefix(data: bytes) -> bytes:
    if len(data) >= 4 and data[0] == 0x30 and data[1] == 0x82:
        return data[: 4 + int.from_bytes(data[2:4], "big")]
    return data


def load_bundle(pem: bytes) -> list[x509.Certificate]:
    """The trust anchors of a PEM bundle (EKCertificateInvalid if none)."""
    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise errors.EKCertificateInvalid(
            reason="CA bundle unreadable: %s" % exc
        ) from None
    return certs


def _valid_at(cert: x509.Certificate, now: datetime.datetime) -> bool:
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(
            x509.BasicConstraints
        ).value.ca
    except x509.ExtensionNotFound:
        return False


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def verify_chain(
    cert: x509.Certificate,
    anchors: list[x509.Certificate],
    intermediates: list[x509.Certificate] = (),
    now: datetime.datetime | None = None,
) -> list[x509.Certificate]:
    """Check that cert chains to one of anchors; return the chain."""
    now = now or datetime.datetime.now(datetime.UTC)
    if not _valid_at(cert, now):
        raise errors.EKCertificateInvalid(
            reason="certificate not valid at %s" % now.isoformat()
        )
    try:
        usage = cert.extensions.get_extension_for_class(
            x509.ExtendedKeyUsage
        ).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not (
        TCG_EK_CERTIFICATE_OID in usage
        or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in usage
    ):
        raise errors.EKCertificateInvalid(
            reason="extended key usage is not the TCG EK certificate's"
        )
    chain = [cert]
    current = cert
    for _ in range(MAX_CHAIN):
        for anchor in anchors:
            if _signed_by(current, anchor):
                if not _valid_at(anchor, now) or not _is_ca(anchor):
                    raise errors.EKCertificateInvalid(
                        reason="issuer %s is not a valid CA"
                        % anchor.subject.rfc4514_string()
                    )
                return chain + [anchor]
        for candidate in intermediates:
            if candidate not in chain and _signed_by(current, candidate):
                if not _valid_at(candidate, now) or not _is_ca(candidate):
                    raise errors.EKCertificateInvalid(
                        reason="intermediate %s is not a valid CA"
                        % candidate.subject.rfc4514_string()
                    )
                chain.append(candidate)
                current = candidate
                break
        else:
            raise errors.EKCertificateInvalid(
                reason="no trusted CA signed %s (issuer %s)"
                % (
                    "the EK certificate" if current is cert else "its issuer",
                    current.issuer.rfc4514_string(),
                )
            )
    raise errors.EKCertificateInvalid(reason="certificate chain too long")


def check_ek_matches(cert: x509.Certificate, ek: PublicArea) -> None:
    """Refuse an EK public area whose key is not the certificate's."""
    der = serialization.Encoding.DER
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    try:
        certified = cert.public_key().public_bytes(der, spki)
    except (ValueError, TypeError) as exc:
        raise errors.EKCertificateInvalid(
            reason="certificate key unusable: %s" % exc
        ) from None
    if ek.public_key().public_bytes(der, spki) != certified:
        raise errors.EKCertificateInvalid(
            reason="EK public key does not match its certificate"
        )
