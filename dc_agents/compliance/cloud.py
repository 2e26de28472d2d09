"""What the compliance manager needs from the cloud, and its errors.

:class:`Cloud` is the narrow interface the manager drives: the servers and
their hosts, free capacity per compute node, fencing a host's
nova-compute service and migrating a server (never forced: nova's
scheduler and the ACaaS filter validate the requested destination).  The
production implementation talks to nova and placement over HTTP with
keystoneauth service credentials.
"""

import dataclasses
from collections.abc import Mapping
from typing import Protocol

from dc_agents.compliance import errors

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


#: Errors a Cloud raises (one line each): see dc_agents.compliance.errors.
CloudError = errors.ClientError
MoveRefused = errors.MigrationRefused


class Cloud(Protocol):
    def servers(self) -> list[Server]:
        """Every server in the cloud (all projects)."""

    def server(self, uuid: str) -> Server | None:
        """One server now, or None once it is deleted."""

    def free(self) -> Mapping[NodeKey, tuple[int, ...]]:
        """Free (vcpus, memory_mb, disk_gb) per compute node (may be read
        lazily: only the nodes asked for)."""

    def fence(self, host: str, event_id: str) -> None:
        """Disable the host's nova-compute service with the reason
        ``ACaaS: untrusted (event <event_id>)``."""

    def unfence(self, host: str) -> bool:
        """Enable the service again, only if its disabled reason is ours;
        False when it was left alone (an operator disabled it)."""

    def migrate(self, uuid: str, host: str | None, live: bool) -> None:
        """Ask nova to move the server, to ``host`` if given (validated by
        nova's scheduler, never forced)."""

    def confirm_move(self, uuid: str) -> None:
        """Confirm a finished cold migration (status VERIFY_RESIZE)."""
