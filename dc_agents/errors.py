"""Errors of the DC-S/DC-C RPC conversation.

Each is the caller's fault (so RPC endpoints declare them with
``expected_exceptions`` and they cross the wire as themselves) and carries
an ``event_id`` and ``severity`` for the event DC-S records when it refuses
a message.  The ids are documented in docs/daemons.rst.
"""

from acaas_nova import exception


class MalformedMessage(exception.Invalid):
    """An RPC argument or answer has the wrong type, size or encoding."""

    msg_fmt = "Malformed %(what)s: %(reason)s"
    event_id = "ACAAS-DCS-001"
    severity = "warning"


class MessageTooLarge(exception.Invalid):
    msg_fmt = "%(what)s of %(size)d bytes exceeds the limit of %(limit)d"
    event_id = "ACAAS-DCS-002"
    severity = "warning"


class LogTooLarge(MessageTooLarge):
    """A node's IMA log, sent in chunks, exceeds what DC-S keeps for one
    attestation (``[dcs] max_ima_log_bytes``, ``max_log_chunks``)."""

    msg_fmt = "IMA log of %(node)s: %(reason)s"
    event_id = "ACAAS-DCS-034"


class NotRegistered(exception.Conflict):
    """The node has not completed registration (or was revoked)."""

    msg_fmt = "Node %(node)s is not registered: %(reason)s"
    event_id = "ACAAS-DCS-010"
    severity = "warning"


class RegistrationRefused(exception.Conflict):
    """Registration evidence was rejected (EK, AK, credential, identity)."""

    msg_fmt = "Registration of node %(node)s refused: %(reason)s"
    event_id = "ACAAS-DCS-011"
    severity = "error"


class RegistrationRetry(RegistrationRefused):
    """A registration that cannot complete now but may when the agent
    starts over: its session is unknown or expired (e.g. replaced by a
    late duplicate of its first step), or too many are pending."""

    msg_fmt = "Registration of node %(node)s must start over: %(reason)s"
    event_id = "ACAAS-DCS-013"
    severity = "warning"


class MembershipRefused(exception.Conflict):
    """A node may not join a physical domain (yet)."""

    msg_fmt = "Node %(node)s may not join domain %(domain)s: %(reason)s"
    event_id = "ACAAS-DCS-040"
    severity = "warning"


class EKNotDeclared(RegistrationRefused):
    """The TPM is not the one an operator declared for the node."""

    event_id = "ACAAS-DCS-012"
    severity = "error"
