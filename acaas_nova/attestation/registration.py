"""Node registration, the TPM 2.0 way (the chapter's Protocol 12.1).

What a Privacy CA does today, in two steps for the DC-S:

1. :func:`begin` checks the EK certificate against the CA bundle, that the
   reported EK public area is the certified key, and that the AK is a
   restricted signing key bound to its TPM; it then makes a credential (a
   random secret) for the EK and the AK's name and returns it with the
   node's CID.
2. The agent's TPM can only recover the secret with ActivateCredential if
   the AK lives beside the EK.  :func:`finish` compares what the agent
   returned and issues the AK certificate, signed by the DC-S CA key.
   Over a network the secret itself is not sent back: the agent derives
   the node's channel key from it (:mod:`channel`) and sends a MAC under
   that key, which :func:`finish_proven` checks instead.

Pure: standard library and ``cryptography`` only.
"""

import dataclasses
import datetime
import hashlib
import hmac
import os
import uuid

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed448
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

from acaas_nova import exception
from acaas_nova.attestation import channel
from acaas_nova.attestation import credential
from acaas_nova.attestation import ek_template
from acaas_nova.attestation import ekcert
from acaas_nova.attestation import errors
from acaas_nova.attestation import inputs
from acaas_nova.attestation import tpm_public
from acaas_nova.attestation import tpm_structs as ts

#: Namespace of CIDs: uuid5(CID_NAMESPACE, hex EK name).
CID_NAMESPACE = uuid.UUID("6f1c9a52-58a4-4d0e-9f37-1d6ad1e0c0a7")

#: Attributes an AK must have: a restricted signing key that was created
#: inside, and cannot leave, its TPM.
AK_REQUIRED = (
    ts.OBJ_FIXED_TPM
    | ts.OBJ_FIXED_PARENT
    | ts.OBJ_SENSITIVE_DATA_ORIGIN
    | ts.OBJ_RESTRICTED
    | ts.OBJ_SIGN
)
SECRET_SIZE = 32
AK_CERT_DAYS = 365


@dataclasses.dataclass(frozen=True)
class Challenge:
    """State of a registration between :func:`begin` and :func:`finish`.

    ``credential_blob`` and ``encrypted_secret`` go to the agent; the rest
    stays with the DC-S.  Only a digest of the secret is kept, and the
    channel key derived from it (:func:`channel.derive_key`).
    """

    cid: str
    ek_public: bytes
    ak_public: bytes
    ak_name: bytes
    credential_blob: bytes
    encrypted_secret: bytes
    secret_digest: bytes
    #: The node's channel key, derived from the secret (never in repr).
    channel_key: bytes = dataclasses.field(default=b"", repr=False)


_AK_ATTRIBUTE_NAMES = (
    (ts.OBJ_FIXED_TPM, "fixedTPM"),
    (ts.OBJ_FIXED_PARENT, "fixedParent"),
    (ts.OBJ_SENSITIVE_DATA_ORIGIN, "sensitiveDataOrigin"),
    (ts.OBJ_RESTRICTED, "restricted"),
    (ts.OBJ_SIGN, "sign"),
)


def check_ak_public(ak: tpm_public.PublicArea) -> None:
    """Refuse an AK that is not a restricted signing key fixed to its TPM.

    A TPM gives a key made inside it, unable to leave it, that signs only
    TPM-generated data (quotes) exactly these attributes; any other key
    could sign a forged TPMS_ATTEST.
    """
    missing = [n for bit, n in _AK_ATTRIBUTE_NAMES if not ak.attributes & bit]
    if missing:
        raise errors.AKAttributesInvalid(
            reason="not a restricted signing key fixed to its TPM: lacks %s "
            "(attributes 0x%08x)" % (", ".join(missing), ak.attributes)
        )
    if ak.attributes & ts.OBJ_DECRYPT:
        raise errors.AKAttributesInvalid(
            reason="a restricted signing key must not also decrypt "
            "(attributes 0x%08x)" % ak.attributes
        )
    if ak.type == ts.ALG_RSA and ak.rsa_bits != 2048:
        raise errors.UnsupportedAlgorithm(
            reason="RSA AK of %d bits" % ak.rsa_bits
        )


def ek_fingerprint(ek) -> str:
    """The TPM's identity: SHA-256 of its EK's SubjectPublicKeyInfo (DER).

    DER of the key itself, not of the bytes the agent sent: an RSA
    exponent written as 65537 instead of a template's 0, or any other
    re-encoding of the same public area, gives the same fingerprint, so
    one EK never gets two identities.  ``ek`` is a PublicArea or
    TPM2B_PUBLIC bytes.
    """
    if not isinstance(ek, tpm_public.PublicArea):
        ek = tpm_public.parse_public(inputs.blob(ek, "EK public area"))
    spki = ek.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    return hashlib.sha256(spki).hexdigest()


def parse_fingerprint(text) -> str:
    """An EK fingerprint an operator typed, as :func:`ek_fingerprint`
    writes it (64 lower-case hex digits; colons and case are accepted);
    Invalid otherwise."""
    if not isinstance(text, str):
        raise exception.Invalid(reason="EK fingerprint must be text")
    value = text.strip().replace(":", "").lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise exception.Invalid(
            reason="EK fingerprint %r is not 64 hex digits (the SHA-256 "
            "of the EK's SubjectPublicKeyInfo, as host show prints it)"
            % text[:80]
        )
    return value


def compute_cid(ek: tpm_public.PublicArea) -> str:
    """The node's CID: stable for one EK (whatever its encoding), unique
    across EKs."""
    return str(uuid.uuid5(CID_NAMESPACE, ek_fingerprint(ek)))


def begin(
    ek_certificate: bytes,
    ek_public: bytes,
    ak_public: bytes,
    ca_bundle: bytes,
    intermediates: list[bytes] = (),
    now: datetime.datetime | None = None,
    crls: bytes | None = None,
) -> Challenge:
    """Verify the EK and AK and make the credential challenge.

    The EK public area must follow a TCG default EK template, its
    certificate pass :func:`ekcert.verify_chain` (with ``crls``, PEM or
    DER, if given) and certify that key; the AK must be a restricted
    signing key fixed to its TPM.
    """
    ek_public = inputs.blob(ek_public, "EK public area")
    ak_public = inputs.blob(ak_public, "AK public area")
    intermediates = inputs.blob_list(
        list(intermediates)
        if isinstance(intermediates, tuple)
        else intermediates,
        "EK intermediate certificates",
        ekcert.MAX_CHAIN,
        ekcert.MAX_CERTIFICATE,
    )
    now = inputs.moment(now, "registration time")
    ek = tpm_public.parse_public(ek_public)
    ek_template.check(ek)
    cert = ekcert.load_certificate(ek_certificate)
    ekcert.verify_chain(
        cert,
        ekcert.load_bundle(ca_bundle),
        [ekcert.load_certificate(c) for c in intermediates],
        now,
        ekcert.load_crls(crls) if crls is not None else (),
    )
    ekcert.check_ek_matches(cert, ek)
    ak = tpm_public.parse_public(ak_public)
    check_ak_public(ak)
    secret = os.urandom(SECRET_SIZE)
    blob, encrypted = credential.make_credential(ek, ak.name, secret)
    cid = compute_cid(ek)
    return Challenge(
        cid=cid,
        ek_public=bytes(ek_public),
        ak_public=bytes(ak_public),
        ak_name=ak.name,
        credential_blob=blob,
        encrypted_secret=encrypted,
        secret_digest=hashlib.sha256(secret).digest(),
        channel_key=channel.derive_key(secret, cid),
    )


def finish(
    challenge: Challenge,
    answer: bytes,
    ca_key,
    ca_cert: x509.Certificate,
    now: datetime.datetime | None = None,
    days: int = AK_CERT_DAYS,
) -> bytes:
    """Check the activated secret; return the AK certificate (PEM)."""
    if not isinstance(challenge, Challenge):
        raise errors.MalformedInput(
            what="registration challenge", reason="not a Challenge"
        )
    answer = inputs.blob(answer, "activated secret", 1024)
    now = inputs.moment(now, "registration time")
    if not hmac.compare_digest(
        hashlib.sha256(answer).digest(), challenge.secret_digest
    ):
        raise errors.CredentialError(
            reason="the returned secret is not the credential's"
        )
    ak = tpm_public.parse_public(challenge.ak_public)
    return issue_ak_certificate(
        ca_key, ca_cert, ak.public_key(), challenge.cid, now, days
    )


def finish_proven(
    challenge: Challenge,
    node: str,
    session: str,
    proof: dict,
    ca_key,
    ca_cert: x509.Certificate,
    now: datetime.datetime | None = None,
    days: int = AK_CERT_DAYS,
) -> bytes:
    """Like :func:`finish`, but the agent proves it recovered the secret
    with ``proof``: its activation arguments with a MAC under the channel
    key (:func:`activation_proof`), so the secret never crosses the wire.
    """
    if not isinstance(challenge, Challenge) or not challenge.channel_key:
        raise errors.MalformedInput(
            what="registration challenge", reason="no channel key"
        )
    now = inputs.moment(now, "registration time")
    try:
        channel.verify(
            challenge.channel_key, channel.ACTIVATE, node, session, proof
        )
    except errors.ChannelError as exc:
        raise errors.CredentialError(
            reason="the activation proof is not the credential's (%s)"
            % exc.message
        ) from None
    ak = tpm_public.parse_public(challenge.ak_public)
    return issue_ak_certificate(
        ca_key, ca_cert, ak.public_key(), challenge.cid, now, days
    )


def activation_proof(key: bytes, node: str, session: str, cid: str) -> dict:
    """The agent's activation arguments with their MAC under ``key``."""
    return channel.sign(key, channel.ACTIVATE, node, session, {"cid": cid})


def issue_ak_certificate(
    ca_key,
    ca_cert: x509.Certificate,
    ak_key,
    cid: str,
    now: datetime.datetime | None = None,
    days: int = AK_CERT_DAYS,
) -> bytes:
    """An X.509 certificate for the AK, subject CN=<cid>, signed by the CA."""
    now = now or datetime.datetime.now(datetime.UTC)
    algorithm = (
        None
        if isinstance(
            ca_key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey
        )
        else hashes.SHA256()
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, cid),
                    x509.NameAttribute(
                        NameOID.ORGANIZATIONAL_UNIT_NAME, "ACaaS node AK"
                    ),
                ]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(ak_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            True,
        )
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.UniformResourceIdentifier("urn:uuid:%s" % cid)]
            ),
            False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_cert.public_key()
            ),
            False,
        )
    )
    cert = builder.sign(ca_key, algorithm)
    return cert.public_bytes(serialization.Encoding.PEM)


def verify_ak_certificate(
    pem: bytes, ca_cert: x509.Certificate
) -> x509.Certificate:
    """Load an AK certificate and check this CA issued it."""
    if isinstance(pem, str):
        pem = pem.encode("ascii", "replace")
    pem = inputs.blob(pem, "AK certificate", ekcert.MAX_CERTIFICATE)
    if not isinstance(ca_cert, x509.Certificate):
        raise errors.MalformedInput(
            what="DC-S CA certificate", reason="not an X.509 certificate"
        )
    try:
        cert = x509.load_pem_x509_certificate(pem)
        cert.verify_directly_issued_by(ca_cert)
    except (InvalidSignature, ValueError, TypeError) as exc:
        raise errors.CredentialError(
            reason="AK certificate not issued by this CA: %s" % exc
        ) from None
    return cert
