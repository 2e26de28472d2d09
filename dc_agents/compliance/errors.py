"""Errors of DC-S's nova and placement clients, one line each.

SDK and HTTP errors never leave the clients as themselves: they become one
of these, so the compliance manager can decide (fall back to cold
migration, retry on the next sweep, report the server as not movable).
"""

from acaas_nova import exception


class ClientError(exception.ACaaSException):
    """A call to nova or placement failed."""

    msg_fmt = "%(service)s API: %(reason)s"


class Unreachable(ClientError):
    """The service did not answer, or answered with a server error."""

    msg_fmt = "%(service)s API unreachable: %(reason)s"


class MigrationRefused(ClientError):
    """nova refused to start this kind of migration of the server.

    A refused live migration may be retried as a cold migration.
    """

    msg_fmt = "%(kind)s migration of server %(server)s refused: %(reason)s"


class MigrationFailed(ClientError):
    """The migration started but the server did not leave its host."""

    msg_fmt = "%(kind)s migration of server %(server)s failed: %(reason)s"


class MigrationTimedOut(ClientError):
    msg_fmt = (
        "%(kind)s migration of server %(server)s did not finish within "
        "%(timeout)s s (status %(status)s, task %(task_state)s)"
    )


class ServiceNotFound(exception.NotFound):
    msg_fmt = "nova-compute service of host %(host)s not found"


class ProviderNotFound(exception.NotFound):
    msg_fmt = "Resource provider of compute node %(node)s not found"


class GenerationConflict(ClientError):
    """Other writers kept changing the provider; gave up for now."""

    msg_fmt = (
        "Traits of resource provider %(rp)s not written: its generation "
        "changed %(attempts)d times in a row"
    )
