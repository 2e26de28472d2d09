"""The one exception tree of acaas-nova.

Every error we raise derives from :class:`ACaaSException`.  Subclasses set
``msg_fmt``, a ``%``-style template filled from the keyword arguments given at
raise time, so that messages are uniform and a caller can render them on one
line.  The tree is at most two levels deep below the base.  This module is
pure: it imports nothing from nova, oslo or SQLAlchemy, so the pure cores may
use it.
"""


class ACaaSException(Exception):
    """Base of every acaas-nova error."""

    msg_fmt = "An unknown ACaaS error occurred."
    #: CLI exit code when this error reaches acaas-manage (1: failure).
    exit_code = 1

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if message is None:
            try:
                message = self.msg_fmt % kwargs
            except (KeyError, TypeError, ValueError):
                # A wrong template argument must never hide the real error.
                message = self.msg_fmt
        self.message = str(message)
        super().__init__(self.message)

    def __str__(self):
        return self.message


# -- Input and lookup -------------------------------------------------------


class Invalid(ACaaSException):
    """The caller's input is wrong (exit code 2 in the CLI)."""

    msg_fmt = "Invalid input: %(reason)s"
    exit_code = 2


class NotFound(ACaaSException):
    """A named object does not exist (exit code 2 in the CLI)."""

    msg_fmt = "%(kind)s %(name)s not found"
    exit_code = 2


class Duplicate(ACaaSException):
    """An object with the same identity already exists."""

    msg_fmt = "%(kind)s %(name)s already exists"
    exit_code = 2


class Conflict(ACaaSException):
    """A write is refused because of the state of other objects."""

    msg_fmt = "%(reason)s"
    exit_code = 2


class UndeclaredEK(Conflict):
    """A TPM other than the one an operator declared for a node."""

    msg_fmt = "%(reason)s"


class InvalidRequirement(Invalid):
    """A tenant requirement (hint, extra spec or stored spec) is invalid."""

    msg_fmt = "Invalid requirement %(key)s: %(reason)s"


# -- Infrastructure -----------------------------------------------------------


class DBError(ACaaSException):
    """The database failed in a way the caller did not cause."""

    msg_fmt = "Database error: %(reason)s"


class DBNotMigrated(DBError):
    """Our schema is missing or older than the code."""

    msg_fmt = (
        "The ACaaS database is not at the current schema version "
        "(%(current)s, expected %(expected)s); run 'acaas-manage db sync'"
    )


class ConfigError(ACaaSException):
    """The configuration is unusable."""

    msg_fmt = "Configuration error: %(reason)s"


class DemoStepFailed(ACaaSException):
    """A step of acaas-demo did not behave as described."""

    msg_fmt = "demo step failed: %(reason)s"


# -- Attestation --------------------------------------------------------------


class AttestationError(ACaaSException):
    """Attestation evidence was rejected.

    Every attestation failure carries an ``event_id`` (stable, documented in
    docs/events.rst) and a ``severity`` so that operators can see why a node
    was judged untrusted.  Concrete failures subclass this once.
    """

    msg_fmt = "Attestation failed: %(reason)s"
    event_id = "ACAAS-ATT-000"
    severity = "error"


class CoordinationError(ACaaSException):
    """The DC-S workers' coordination backend failed us."""

    msg_fmt = "Coordination failed: %(reason)s"
