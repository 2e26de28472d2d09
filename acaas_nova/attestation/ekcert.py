"""Endorsement key certificates: chain to a CA bundle, match the EK.

EK certificates carry the TCG EK extended key usage (2.23.133.8.1) and
often a critical subjectAltName of TPM attributes, which the generic X.509
client-verification policy of ``cryptography`` rejects.  The path is
therefore validated explicitly (RFC 5280, 6.1, for what EK chains use):
each certificate signed by the next and valid now, no unknown critical
extension, every issuer a CA with keyCertSign within its path length, the
EK certificate an end entity with the TCG EK Credential Profile's usage,
optional CRLs, and the walk must end at a certificate of the configured
bundle.  Each refusal has its own error (see :mod:`errors`).  Issuers
are matched by signature, not only by name, since several CAs may share
a subject (every swtpm-localca is ``CN=swtpm-localca``).

Pure: standard library and ``cryptography`` only.
"""

import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtensionOID

from acaas_nova.attestation import errors
from acaas_nova.attestation.tpm_public import PublicArea

#: TCG EK certificate extended key usage (EK Credential Profile 2.0).
TCG_EK_CERTIFICATE_OID = x509.ObjectIdentifier("2.23.133.8.1")
MAX_CHAIN = 6
#: What ``cryptography`` raises for a certificate it parsed lazily and
#: finds malformed or unsupported on access (names, extensions, keys);
#: KeyError comes from names/extensions with unknown ASN.1 string tags
#: (found by tests/fuzz/fuzz_ek_certificate.py).
_CERT_ERRORS = (
    KeyError,
    ValueError,
    TypeError,
    x509.InvalidVersion,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
    UnsupportedAlgorithm,
)
MAX_CERTIFICATE = 1 << 16
MAX_BUNDLE = 1 << 22


def load_certificate(data: bytes) -> x509.Certificate:
    """A certificate from DER or PEM bytes, or EKCertificateInvalid.

    Some TPMs pad the NV certificate with trailing bytes; DER is cut to the
    length its outer SEQUENCE declares.
    """
    if not isinstance(data, bytes | bytearray | memoryview | str):
        raise errors.EKCertificateInvalid(
            reason="certificate is %s, not bytes" % type(data).__name__
        )
    if isinstance(data, str):
        data = data.encode("ascii", "replace")
    data = bytes(data)
    if len(data) > MAX_CERTIFICATE:
        raise errors.EKCertificateInvalid(
            reason="certificate of %d bytes is too large" % len(data)
        )
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(_der_prefix(data))
    except _CERT_ERRORS as exc:
        raise errors.EKCertificateInvalid(
            reason="cannot parse certificate: %s" % exc
        ) from None


def _der_prefix(data: bytes) -> bytes:
    if len(data) >= 4 and data[0] == 0x30 and data[1] == 0x82:
        return data[: 4 + int.from_bytes(data[2:4], "big")]
    return data


def load_bundle(pem: bytes) -> list[x509.Certificate]:
    """The trust anchors of a PEM bundle (EKCertificateInvalid if none)."""
    if isinstance(pem, str):
        pem = pem.encode("ascii", "replace")
    if not isinstance(pem, bytes | bytearray | memoryview):
        raise errors.EKCertificateInvalid(
            reason="CA bundle is %s, not PEM bytes" % type(pem).__name__
        )
    if len(pem) > MAX_BUNDLE:
        raise errors.EKCertificateInvalid(reason="CA bundle too large")
    try:
        certs = x509.load_pem_x509_certificates(bytes(pem))
    except (ValueError, TypeError) as exc:
        raise errors.EKCertificateInvalid(
            reason="CA bundle unreadable: %s" % exc
        ) from None
    return certs


#: Extensions this verifier processes; any other marked critical is refused
#: (RFC 5280, 4.2).  SubjectDirectoryAttributes carries the TPM
#: specification in EK certificates.
KNOWN_EXTENSIONS = frozenset(
    {
        ExtensionOID.BASIC_CONSTRAINTS,
        ExtensionOID.KEY_USAGE,
        ExtensionOID.EXTENDED_KEY_USAGE,
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
        ExtensionOID.SUBJECT_KEY_IDENTIFIER,
        ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
        ExtensionOID.CERTIFICATE_POLICIES,
        ExtensionOID.SUBJECT_DIRECTORY_ATTRIBUTES,
        ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
        ExtensionOID.CRL_DISTRIBUTION_POINTS,
    }
)


def _label(cert: x509.Certificate, leaf: bool) -> str:
    if leaf:
        return "the EK certificate"
    return "issuer %s" % cert.subject.rfc4514_string()[:120]


def _extensions(cert: x509.Certificate, label: str):
    try:
        return cert.extensions
    except _CERT_ERRORS as exc:  # duplicate / undecodable
        raise errors.EKCertificateInvalid(
            reason="%s has malformed extensions: %s" % (label, exc)
        ) from None


def _extension(cert: x509.Certificate, cls, label: str):
    try:
        return _extensions(cert, label).get_extension_for_class(cls).value
    except x509.ExtensionNotFound:
        return None


def _check_common(cert, now: datetime.datetime, leaf: bool) -> None:
    """Validity and critical extensions of any certificate in the path."""
    label = _label(cert, leaf)
    if now < cert.not_valid_before_utc:
        raise errors.EKCertificateNotYetValid(
            reason="%s is valid from %s" % (label, cert.not_valid_before_utc)
        )
    if now > cert.not_valid_after_utc:
        raise errors.EKCertificateExpired(
            reason="%s expired at %s" % (label, cert.not_valid_after_utc)
        )
    for ext in _extensions(cert, label):
        if ext.critical and ext.oid not in KNOWN_EXTENSIONS:
            raise errors.EKCertificateCriticalExtension(
                reason="%s: %s" % (label, ext.oid.dotted_string)
            )


def check_ek_profile(cert: x509.Certificate, now: datetime.datetime) -> None:
    """The EK certificate itself: valid now, an end entity, an EK.

    TCG EK Credential Profile: the TCG EK certificate EKU (2.23.133.8.1),
    or a key usage an EK has (keyEncipherment for RSA, keyAgreement for
    ECC) and no EKU saying otherwise; never a CA.
    """
    _check_common(cert, now, True)
    basic = _extension(cert, x509.BasicConstraints, "the EK certificate")
    if basic is not None and basic.ca:
        raise errors.EKCertificateUsage(
            reason="the EK certificate is a CA certificate"
        )
    eku = _extension(cert, x509.ExtendedKeyUsage, "the EK certificate")
    usage = _extension(cert, x509.KeyUsage, "the EK certificate")
    if eku is not None and TCG_EK_CERTIFICATE_OID not in eku:
        raise errors.EKCertificateUsage(
            reason="extended key usage lacks the TCG EK certificate's"
        )
    if usage is not None:
        if usage.key_cert_sign or usage.crl_sign:
            raise errors.EKCertificateUsage(
                reason="key usage lets the EK sign certificates"
            )
        if not (usage.key_encipherment or usage.key_agreement):
            raise errors.EKCertificateUsage(
                reason="key usage has neither keyEncipherment nor keyAgreement"
            )
    elif eku is None:
        raise errors.EKCertificateUsage(
            reason="neither the TCG EK extended key usage nor an EK key usage"
        )


def check_issuer(
    issuer: x509.Certificate, now: datetime.datetime, below: int
) -> None:
    """An issuer: valid now, a CA, allowed to sign certificates, and not
    beyond its path length (``below`` CA certificates under it)."""
    _check_common(issuer, now, False)
    label = _label(issuer, False)
    basic = _extension(issuer, x509.BasicConstraints, label)
    if basic is None or not basic.ca:
        raise errors.EKIssuerInvalid(reason="%s is not a CA" % label)
    usage = _extension(issuer, x509.KeyUsage, label)
    if usage is not None and not usage.key_cert_sign:
        raise errors.EKIssuerInvalid(
            reason="%s may not sign certificates (no keyCertSign)" % label
        )
    if basic.path_length is not None and below > basic.path_length:
        raise errors.EKIssuerInvalid(
            reason="%s allows %d CA(s) below it, the chain has %d"
            % (label, basic.path_length, below)
        )


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        if cert.issuer != issuer.subject:
            return False
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, *_CERT_ERRORS):
        return False
    return True


def _check_revocation(chain, crls, now) -> None:
    """Refuse a chain in which a CRL of an issuer lists a certificate."""
    for cert, issuer in zip(chain, chain[1:], strict=False):
        for crl in crls:
            if crl.issuer != issuer.subject:
                continue
            try:
                valid = crl.is_signature_valid(issuer.public_key())
            except _CERT_ERRORS:
                valid = False
            if not valid:
                continue
            entry = crl.get_revoked_certificate_by_serial_number(
                cert.serial_number
            )
            if entry is not None:
                raise errors.EKCertificateRevoked(
                    reason="%s serial %x revoked by %s"
                    % (
                        _label(cert, cert is chain[0]),
                        cert.serial_number,
                        issuer.subject.rfc4514_string()[:120],
                    )
                )


def load_crls(data) -> list[x509.CertificateRevocationList]:
    """CRLs from PEM (any number) or one DER CRL; EKCertificateInvalid."""
    if isinstance(data, str):
        data = data.encode("ascii", "replace")
    if not isinstance(data, bytes | bytearray | memoryview):
        raise errors.EKCertificateInvalid(reason="CRLs must be bytes")
    data = bytes(data)
    if len(data) > MAX_BUNDLE:
        raise errors.EKCertificateInvalid(reason="CRLs too large")
    try:
        if b"-----BEGIN" not in data:
            return [x509.load_der_x509_crl(data)]
        out = []
        marker = b"-----BEGIN X509 CRL-----"
        for part in data.split(marker)[1:]:
            out.append(x509.load_pem_x509_crl(marker + part))
        return out
    except _CERT_ERRORS as exc:
        raise errors.EKCertificateInvalid(
            reason="CRL unreadable: %s" % str(exc)[:200]
        ) from None


def verify_chain(
    cert: x509.Certificate,
    anchors: list[x509.Certificate],
    intermediates: list[x509.Certificate] = (),
    now: datetime.datetime | None = None,
    crls: list[x509.CertificateRevocationList] = (),
) -> list[x509.Certificate]:
    """RFC 5280 path validation of an EK certificate; return the chain.

    The EK certificate must satisfy :func:`check_ek_profile`, each issuer
    :func:`check_issuer`, each certificate be signed by the next, and the
    path end at a certificate of ``anchors``.  Intermediates (sent by the
    node) are untrusted: they count only if the path through them reaches
    an anchor.  With ``crls``, a certificate listed by a validly signed CRL
    of its issuer is refused.
    """
    now = now or datetime.datetime.now(datetime.UTC)
    if not isinstance(cert, x509.Certificate):
        raise errors.EKCertificateInvalid(reason="not an X.509 certificate")
    try:
        return _walk(cert, anchors, intermediates, now, crls)
    except _CERT_ERRORS as exc:
        raise errors.EKCertificateInvalid(
            reason="malformed certificate in the chain: %s" % str(exc)[:200]
        ) from None


def _walk(cert, anchors, intermediates, now, crls) -> list[x509.Certificate]:
    check_ek_profile(cert, now)
    chain = [cert]
    current = cert
    for _ in range(MAX_CHAIN):
        for anchor in anchors:
            if _signed_by(current, anchor):
                chain.append(anchor)
                for below, issuer in enumerate(chain[1:]):
                    check_issuer(issuer, now, below)
                _check_revocation(chain, list(crls), now)
                return chain
        for candidate in intermediates:
            if candidate not in chain and _signed_by(current, candidate):
                chain.append(candidate)
                current = candidate
                break
        else:
            if current is cert:
                reason = "no trusted CA signed the EK certificate (issuer %s)"
            else:
                reason = (
                    "the chain reaches no trusted CA: untrusted issuer "
                    "%s was signed by %%s"
                    % current.subject.rfc4514_string()[:120]
                )
            raise errors.EKIssuerInvalid(
                reason=reason % current.issuer.rfc4514_string()[:120]
            )
    raise errors.EKIssuerInvalid(reason="certificate chain too long")


def check_ek_matches(cert: x509.Certificate, ek: PublicArea) -> None:
    """Refuse an EK public area whose key is not the certificate's."""
    der = serialization.Encoding.DER
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    try:
        certified = cert.public_key().public_bytes(der, spki)
    except _CERT_ERRORS as exc:
        raise errors.EKCertificateInvalid(
            reason="certificate key unusable: %s" % exc
        ) from None
    if ek.public_key().public_bytes(der, spki) != certified:
        raise errors.EKCertificateInvalid(
            reason="EK public key does not match its certificate"
        )


#: Longest subject or issuer text kept for an operator to read.
MAX_NAME_TEXT = 500


def _name_text(name: x509.Name) -> str:
    try:
        return name.rfc4514_string()[:MAX_NAME_TEXT]
    except _CERT_ERRORS:
        return "(unreadable name)"


def describe(cert: x509.Certificate) -> tuple[str, str]:
    """(subject, issuer) of an EK certificate, for an operator to check.

    EK certificates often have an empty subject and name the TPM in a
    subjectAltName directory name instead: then that is the subject shown
    (``SAN <name>``).
    """
    subject = _name_text(cert.subject)
    if not subject:
        try:
            san = cert.extensions.get_extension_for_oid(
                ExtensionOID.SUBJECT_ALTERNATIVE_NAME
            ).value
            names = san.get_values_for_type(x509.DirectoryName)
        except (x509.ExtensionNotFound, *_CERT_ERRORS):
            names = []
        subject = (
            "SAN " + "; ".join(_name_text(n) for n in names)
            if names
            else "(empty)"
        )[:MAX_NAME_TEXT]
    return subject, _name_text(cert.issuer) or "(empty)"
