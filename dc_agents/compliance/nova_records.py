"""What nova tells DC-S about services, servers and migrations.

Plain records built from openstacksdk's resources, so the compliance
manager never handles SDK objects, and the ``disabled_reason`` that marks
a service as fenced by ACaaS.
"""

import dataclasses

#: Migration kinds.
LIVE = "live"
COLD = "cold"
#: Every disabled_reason we write starts with this.
REASON_PREFIX = "ACaaS:"


def fence_reason(event_id: str) -> str:
    return "%s untrusted (event %s)" % (REASON_PREFIX, event_id)


def is_our_reason(reason: str | None) -> bool:
    return bool(reason) and reason.startswith(REASON_PREFIX)


@dataclasses.dataclass(frozen=True)
class ServiceState:
    host: str
    service_id: str
    #: ``enabled`` or ``disabled``.
    status: str
    disabled_reason: str | None
    #: ``up`` or ``down``.
    state: str

    @property
    def fenced_by_us(self) -> bool:
        return self.status == "disabled" and is_our_reason(
            self.disabled_reason
        )


@dataclasses.dataclass(frozen=True)
class Server:
    """A server as compliance needs it (all projects, admin view)."""

    uuid: str
    name: str
    host: str | None
    node: str | None
    user_id: str
    project_id: str
    status: str
    task_state: str | None
    #: The flavor's vcpus, ram (MiB), disk (GiB) and extra specs.
    vcpus: int
    ram: int
    disk: int
    extra_specs: dict


@dataclasses.dataclass(frozen=True)
class Migration:
    migration_id: str
    status: str
    kind: str
    source: str | None
    dest: str | None
