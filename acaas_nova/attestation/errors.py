"""Precise attestation failures.

Each class has a stable ``event_id`` and a ``severity`` that DC-S records in
the event log, so that an operator can see why a node was judged untrusted.
The ids are documented in docs/attestation.rst.
"""

from acaas_nova.exception import AttestationError


class MalformedInput(AttestationError):
    """Evidence could not be parsed (``line`` is set for text input)."""

    msg_fmt = "Malformed %(what)s: %(reason)s"
    event_id = "ACAAS-ATT-001"
    severity = "error"


class UnsupportedAlgorithm(AttestationError):
    msg_fmt = "Unsupported algorithm: %(reason)s"
    event_id = "ACAAS-ATT-002"
    severity = "error"


class SignatureInvalid(AttestationError):
    msg_fmt = "Quote signature invalid: %(reason)s"
    event_id = "ACAAS-ATT-010"
    severity = "critical"


class NonceMismatch(AttestationError):
    msg_fmt = "Quote nonce mismatch: %(reason)s"
    event_id = "ACAAS-ATT-011"
    severity = "critical"


class PCRSelectionMismatch(AttestationError):
    msg_fmt = "Quote PCR selection mismatch: %(reason)s"
    event_id = "ACAAS-ATT-012"
    severity = "error"


class PCRDigestMismatch(AttestationError):
    msg_fmt = "Quote PCR digest mismatch: %(reason)s"
    event_id = "ACAAS-ATT-013"
    severity = "critical"


class ClockError(AttestationError):
    """Clock went backwards, did not advance, or restart count regressed."""

    msg_fmt = "Quote clock check failed (possible replay): %(reason)s"
    event_id = "ACAAS-ATT-014"
    severity = "critical"


class LogMismatch(AttestationError):
    """The measurement log does not replay to the quoted PCR value."""

    msg_fmt = "Measurement log does not match PCR %(pcr)s: %(reason)s"
    event_id = "ACAAS-ATT-020"
    severity = "critical"


class TemplateHashMismatch(AttestationError):
    msg_fmt = "Measurement log entry %(entry)s: %(reason)s"
    event_id = "ACAAS-ATT-021"
    severity = "critical"


class BootAggregateMismatch(AttestationError):
    msg_fmt = "boot_aggregate mismatch: %(reason)s"
    event_id = "ACAAS-ATT-022"
    severity = "critical"


class MeasurementNotAllowed(AttestationError):
    """Entries (or the boot state) are not on the white-list.

    ``offending`` lists every offending (path, digest) pair.
    """

    msg_fmt = (
        "Measurements not allowed by white-list %(whitelist)s: %(reason)s"
    )
    event_id = "ACAAS-ATT-030"
    severity = "error"


class EKCertificateInvalid(AttestationError):
    msg_fmt = "EK certificate rejected: %(reason)s"
    event_id = "ACAAS-ATT-040"
    severity = "critical"


class CredentialError(AttestationError):
    """MakeCredential / ActivateCredential failed or the secret differed."""

    msg_fmt = "Credential activation failed: %(reason)s"
    event_id = "ACAAS-ATT-041"
    severity = "critical"


class TPMError(AttestationError):
    """The local TPM refused an operation (agent side)."""

    msg_fmt = "TPM operation %(operation)s failed: %(reason)s"
    event_id = "ACAAS-ATT-050"
    severity = "error"


class PlatformChanged(AttestationError):
    """The sealed channel secret can no longer be unsealed."""

    msg_fmt = "Platform changed, sealed secret unavailable: %(reason)s"
    event_id = "ACAAS-ATT-051"
    severity = "critical"


# Refinements: each attack input has its own event id, and subclasses its
# family above so that callers catching the family keep working.


class ImaDisabled(LogMismatch):
    """PCR 10 never extended / no boot_aggregate: IMA is not measuring."""

    msg_fmt = "IMA is not measuring (PCR %(pcr)s): %(reason)s"
    event_id = "ACAAS-ATT-023"
    severity = "critical"


class LogRewritten(LogMismatch):
    """Entries already accepted were resent changed, or the offset went
    back without a TPM reset."""

    msg_fmt = "Measurement log rewritten (PCR %(pcr)s): %(reason)s"
    event_id = "ACAAS-ATT-024"
    severity = "critical"


class NonceNotIssued(NonceMismatch):
    """The nonce was never issued to this node, was used, or expired."""

    msg_fmt = "Quote nonce refused: %(reason)s"
    event_id = "ACAAS-ATT-015"
    severity = "critical"


class AKAttributesInvalid(CredentialError):
    """The AK is not a restricted signing key fixed to its TPM."""

    msg_fmt = "AK rejected: %(reason)s"
    event_id = "ACAAS-ATT-042"
    severity = "critical"


class EKTemplateMismatch(CredentialError):
    """The EK public area is not one of the TCG default EK templates."""

    msg_fmt = "EK public area rejected: %(reason)s"
    event_id = "ACAAS-ATT-043"
    severity = "critical"


class EKCertificateExpired(EKCertificateInvalid):
    msg_fmt = "EK certificate expired: %(reason)s"
    event_id = "ACAAS-ATT-044"


class EKCertificateNotYetValid(EKCertificateInvalid):
    msg_fmt = "EK certificate not yet valid: %(reason)s"
    event_id = "ACAAS-ATT-045"


class EKCertificateUsage(EKCertificateInvalid):
    """Not an EK certificate: TCG EK EKU / EK key usage missing, or a CA."""

    msg_fmt = "EK certificate usage rejected: %(reason)s"
    event_id = "ACAAS-ATT-046"


class EKCertificateCriticalExtension(EKCertificateInvalid):
    msg_fmt = (
        "EK certificate chain has an unknown critical extension: %(reason)s"
    )
    event_id = "ACAAS-ATT-047"


class EKIssuerInvalid(EKCertificateInvalid):
    """An issuer in the chain is not a CA allowed to sign certificates, or
    the chain reaches a trusted CA only through an untrusted issuer."""

    msg_fmt = "EK certificate issuer rejected: %(reason)s"
    event_id = "ACAAS-ATT-048"


class EKCertificateRevoked(EKCertificateInvalid):
    msg_fmt = "EK certificate chain revoked: %(reason)s"
    event_id = "ACAAS-ATT-049"


# The authenticated agent channel (acaas_nova.attestation.channel).


class ChannelError(AttestationError):
    """A message on the agent channel could not be authenticated."""

    msg_fmt = "Message not authenticated: %(reason)s"
    event_id = "ACAAS-ATT-060"
    severity = "error"


class ChannelMacMissing(ChannelError):
    msg_fmt = "Message not authenticated: no MAC (%(reason)s)"
    event_id = "ACAAS-ATT-061"


class ChannelMacInvalid(ChannelError):
    msg_fmt = "Message not authenticated: wrong MAC (%(reason)s)"
    event_id = "ACAAS-ATT-062"
    severity = "critical"


class ChannelReplay(ChannelError):
    msg_fmt = "Message replayed: %(reason)s"
    event_id = "ACAAS-ATT-063"
    severity = "critical"
