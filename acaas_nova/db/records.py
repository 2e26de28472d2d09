"""Plain records returned by the DB API.

Query functions never hand SQLAlchemy objects to callers; they return these
frozen dataclasses.  This module is pure (standard library only) so that the
pure cores may use the records as their inputs.
"""

import dataclasses
import datetime

TRUST_UNKNOWN = "unknown"
TRUST_TRUSTED = "trusted"
TRUST_UNTRUSTED = "untrusted"
TRUST_STATUSES = (TRUST_UNKNOWN, TRUST_TRUSTED, TRUST_UNTRUSTED)

SOURCE_LOCAL = "local"
SOURCE_EMERGENCY = "emergency"
DOMAIN_SOURCES = (SOURCE_LOCAL, SOURCE_EMERGENCY)

SEVERITIES = ("debug", "info", "warning", "error", "critical")


@dataclasses.dataclass(frozen=True)
class Location:
    name: str
    description: str | None = None


@dataclasses.dataclass(frozen=True)
class Distance:
    location_a: str
    location_b: str
    distance: int


@dataclasses.dataclass(frozen=True)
class Backup:
    """A collaborating (backup) domain of a source domain."""

    domain: str
    backup: str
    priority: int


@dataclasses.dataclass(frozen=True)
class Domain:
    name: str
    location: str
    source: str
    capabilities: dict[str, str]
    description: str | None = None
    dcot: str | None = None
    dcot_computed_at: datetime.datetime | None = None
    cdcot: str | None = None
    cdcot_computed_at: datetime.datetime | None = None
    backups: tuple[Backup, ...] = ()
    hosts: tuple[str, ...] = ()
    #: In a maintenance window: drained, and avoided by new servers.
    maintenance: bool = False


@dataclasses.dataclass(frozen=True)
class Node:
    """A compute node as nova identifies it, with our properties and trust."""

    host: str
    hypervisor_hostname: str
    compute_node_uuid: str | None
    domain: str | None
    properties: dict[str, str]
    status: str = TRUST_UNKNOWN
    rcot: str | None = None
    whitelists: tuple[str, ...] = ()
    last_attested_at: datetime.datetime | None = None
    cid: str | None = None
    ak_name: str | None = None
    ek_fingerprint: str | None = None
    registered_at: datetime.datetime | None = None
    last_failure: str | None = None
    #: The EK the operator declared (None: the first that registers).
    expected_ek_fingerprint: str | None = None
    #: Why the stored row could not be read (the scheduler rejects the
    #: node with this reason); None: it could.
    defect: str | None = None

    @property
    def ident(self) -> str:
        """``host``, or ``host:hypervisor`` when the two differ."""
        if self.host == self.hypervisor_hostname:
            return self.host
        return "%s:%s" % (self.host, self.hypervisor_hostname)


@dataclasses.dataclass(frozen=True)
class PendingRegistration:
    """A verified registration under an undeclared host name, awaiting an
    operator's approval (what the operator needs to decide)."""

    host: str
    hypervisor_hostname: str
    ek_fingerprint: str
    ek_subject: str
    ek_issuer: str
    cid: str
    created_at: datetime.datetime
    expires_at: datetime.datetime

    @property
    def ident(self) -> str:
        if self.host == self.hypervisor_hostname:
            return self.host
        return "%s:%s" % (self.host, self.hypervisor_hostname)


@dataclasses.dataclass(frozen=True)
class RequirementEntry:
    name: str
    value_type: str
    description: str


@dataclasses.dataclass(frozen=True)
class RequirementSpec:
    name: str
    project_id: str
    user_id: str | None
    values: dict[str, str]
    description: str | None = None


@dataclasses.dataclass(frozen=True)
class Whitelist:
    name: str
    version: str
    description: str | None
    content: str
    digest: str
    created_at: datetime.datetime | None = None


@dataclasses.dataclass(frozen=True)
class InstanceTrust:
    """The chapter's extension of nova's instances table."""

    instance_uuid: str
    project_id: str
    user_id: str
    requirement_spec: str | None = None
    exclude_users: tuple[str, ...] = ()
    exclude_projects: tuple[str, ...] = ()
    exclusive: bool = False
    rcot_virtual: str | None = None
    rcot_application: str | None = None
    #: Effective requirements (acaas_nova.compliance.stored JSON).
    requirements: str | None = None
    #: Why the stored row could not be read (None: it could).
    defect: str | None = None


@dataclasses.dataclass(frozen=True)
class Event:
    id: int
    created_at: datetime.datetime
    subject: str
    event_id: str
    severity: str
    detail: str


@dataclasses.dataclass(frozen=True)
class SchedulingSnapshot:
    """Everything the scheduler filter needs, read in one go.

    ``nodes`` is keyed by (host, hypervisor_hostname); ``distances`` holds
    both directions of every stored pair.
    """

    nodes: dict[tuple[str, str], Node]
    domains: dict[str, Domain]
    locations: frozenset[str]
    distances: dict[tuple[str, str], int]
    taken_at: datetime.datetime
    #: Instance trust records that constrain their neighbours (exclusions,
    #: exclusive), for the scheduler's in-memory isolation look-up.
    instance_constraints: tuple[InstanceTrust, ...] = ()


ACTION_KINDS = ("fence", "unfence", "migrate")
ACTION_OPEN_STATES = ("pending", "running")
ACTION_STATES = ACTION_OPEN_STATES + ("done", "failed", "stuck", "cancelled")


@dataclasses.dataclass(frozen=True)
class ComplianceAction:
    """A fence, unfence or migration the compliance manager decided on."""

    id: int
    kind: str
    subject: str
    state: str
    reason: str
    source_host: str | None = None
    destination_host: str | None = None
    tier: str | None = None
    event_id: str | None = None
    attempts: int = 0
    next_attempt_at: datetime.datetime | None = None
    error: str | None = None
    created_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.state in ACTION_OPEN_STATES
