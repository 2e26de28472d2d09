"""What the compliance manager needs from the cloud, and its errors.

:class:`Cloud` is the narrow interface the manager drives: the servers and
their hosts, free capacity per compute node, fencing a host's
nova-compute service and migrating a server (never forced: nova's
scheduler and the ACaaS filter validate the requested destination).  The
production implementation talks to nova and placement over HTTP with
keystoneauth service credentials.
"""

import dataclasses
from typing import Protocol

from acaas_nova import exception

NodeKey = tuple[str, str]


@dataclasses.dataclass(frozen=True)
class Server:
    uuid: str
    host: str | None
    node: str | None
    user_id: str
    project_id: str
    status: str
    task_state: str | None = None
    #: (vcpus, memory_mb, disk_gb) of its flavor.
    size: tuple[int, ...] = (1, 0, 0)

    @property
    def key(self) -> NodeKey | None:
        if self.host is None:
            return None
        return (self.host, self.node or self.host)

    @property
    def busy(self) -> bool:
        """nova is doing something to it (migrating, resizing ...)."""
        return self.task_state is not None


class CloudError(exception.ACaaSException):
    """nova or placement failed or refused a request."""

    msg_fmt = "%(what)s failed: %(reason)s"


class MoveRefused(CloudError):
    """nova refused this kind of move for this server (e.g. no live
    migration of this instance); another kind may work."""

    msg_fmt = "%(what)s refused: %(reason)s"


class Cloud(Protocol):
    def servers(self) -> list[Server]:
        """Every server in the cloud (all projects)."""

    def server(self, uuid: str) -> Server | None:
        """One server now, or None once it is deleted."""

    def free(self) -> dict[NodeKey, tuple[int, ...]]:
        """Free (vcpus, memory_mb, disk_gb) per compute node."""

    def fence(self, host: str, reason: str) -> None:
        """Disable the host's nova-compute service with ``reason``."""

    def unfence(self, host: str, reason_prefix: str) -> bool:
        """Enable the service again, only if its disabled reason starts
        with ``reason_prefix`` (ours); False when it was left alone."""

    def migrate(self, uuid: str, host: str | None, live: bool) -> None:
        """Ask nova to move the server, to ``host`` if given (validated by
        nova's scheduler, never forced)."""

    def confirm_move(self, uuid: str) -> None:
        """Confirm a finished cold migration (status VERIFY_RESIZE)."""
