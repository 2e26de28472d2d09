"""Declarative models of the ACaaS tables (the chapter's §12.3.2).

Only models live here; queries are in the per-area modules of this package.
Every constraint is named (see ``NAMING``) so that migrations can address it
on SQLite, MySQL/MariaDB and PostgreSQL alike.
"""

import datetime

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.dialects import mysql

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

NAME_LEN = 255
# MySQL's TEXT stops at 64 KiB; white-lists of large platforms exceed it.
LONG_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def _utcnow() -> datetime.datetime:
    # Stored as naive UTC: the portable choice across our three databases.
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class Base(orm.DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


class TimestampMixin:
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, nullable=False, default=_utcnow
    )
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, nullable=True, onupdate=_utcnow
    )


class Location(TimestampMixin, Base):
    __tablename__ = "locations"
    __table_args__ = (sa.UniqueConstraint("name"),)

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LEN))
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)


class LocationDistance(Base):
    """One unordered pair, stored with the smaller location id first."""

    __tablename__ = "location_distances"
    __table_args__ = (
        sa.UniqueConstraint("location_a_id", "location_b_id"),
        sa.CheckConstraint("distance >= 0", name="nonnegative"),
        sa.CheckConstraint("location_a_id < location_b_id", name="ordered"),
    )

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True)
    location_a_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("locations.id", ondelete="CASCADE")
    )
    location_b_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("locations.id", ondelete="CASCADE")
    )
    distance: orm.Mapped[int] = orm.mapped_column(sa.Integer)


class PhysicalLayerDomain(TimestampMixin, Base):
    __tablename__ = "physical_layer_domains"
    __table_args__ = (
        sa.UniqueConstraint("name"),
        sa.CheckConstraint(
            "source IN ('local', 'emergency')", name="source_valid"
        ),
    )

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LEN))
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    location_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("locations.id")
    )
    source: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    dcot: orm.Mapped[str | None] = orm.mapped_column(sa.String(128))
    dcot_computed_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime
    )
    cdcot: orm.Mapped[str | None] = orm.mapped_column(sa.String(128))
    cdcot_computed_at: orm.Mapped[datetime.datetime | None] = (
        orm.mapped_column(sa.DateTime)
    )
    #: When set, the domain is in a maintenance window: drained to its
    #: backup domains and avoided by new servers.
    maintenance_since: orm.Mapped[datetime.datetime | None] = (
        orm.mapped_column(sa.DateTime)
    )


class DomainCapability(Base):
    __tablename__ = "domain_capabilities"
    __table_args__ = (sa.UniqueConstraint("domain_id", "key"),)

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True)
    domain_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("physical_layer_domains.id", ondelete="CASCADE")
    )
    key: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LEN))
    value: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LEN))


class CollaboratingPLDomain(Base):
    __tablename__ = "collaborating_pl_domains"
    __table_args__ = (
        sa.UniqueConstraint("domain_id", "backup_domain_id"),
        sa.UniqueConstraint("domain_id", "priority"),
        sa.CheckConstraint("domain_id <> backup_domain_id", name="no_self"),
    )

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True)
    domain_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("physical_layer_domains.id", ondelete="CASCADE")
    )
    backup_domain_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("physical_layer_domains.id", ondelete="CASCADE")
    )
    priority: orm.Mapped[int] = orm.mapped_column(sa.Integer)


class ComputeNode(TimestampMixin, Base):
    """A nova compute node (service host + hypervisor) and its trust."""

    __tablename__ = "compute_nodes"
    __table_args__ = (
        sa.UniqueConstraint("host", "hypervisor_hostname"),
        sa.UniqueConstraint("compute_node_uuid"),
        sa.UniqueConstraint("cid"),
        sa.CheckConstraint(
            "status IN ('unknown', 'trusted', 'untrusted')",
            name="status_valid",
        ),
    )

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True)
    host: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LEN))
    hypervisor_hostname: orm.Mapped[str] = orm.mapped_column(
        sa.String(NAME_LEN)
    )
    compute_node_uuid: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(36)
    )
    domain_id: orm.Mapped[int | None] = orm.mapped_column(
        sa.ForeignKey("physical_layer_domains.id")
    )
    status: orm.Mapped[str] = orm.mapped_column(
        sa.String(16), default="unknown"
    )
    rcot: orm.Mapped[str | None] = orm.mapped_column(sa.String(128))
    # JSON list of "name" strings of the white-lists currently satisfied.
    whitelists: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    last_attested_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime
    )
    registered_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime
    )
    cid: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    ak_name: orm.Mapped[str | None] = orm.mapped_column(sa.String(136))
    ak_public: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    ak_certificate: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    ek_fingerprint: orm.Mapped[str | None] = orm.mapped_column(sa.String(128))
    # Verifier state kept between attestations (JSON, not pickled).
    attestation_state: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    last_failure_event_id: orm.Mapped[int | None] = orm.mapped_column(
        sa.Integer
    )
    # The DC-S worker ([coordination] member_id) that attests this node;
    # only it may record a trusted or unknown outcome (acaas_nova/db/
    # ownership.py).  NULL: no worker has claimed it (or one coordinator-
    # less DC-S runs, which owns everything).
    dcs_owner: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(NAME_LEN), index=True
    )
    # The node's channel key (hex; acaas_nova/attestation/channel.py),
    # derived at registration from the credential secret, and the highest
    # message counter accepted from the node under it.  NULL: no key (not
    # registered, revoked, or registered before keys existed).
    channel_key: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    channel_counter: orm.Mapped[int | None] = orm.mapped_column(sa.BigInteger)
    # The EK the operator declared for this node (acaas-manage host add
    # --ek-fingerprint): only that EK may register it.  NULL: the first
    # EK that registers under the declared name is the node's.
    expected_ek_fingerprint: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(64)
    )


class RegistrationChallenge(Base):
    """A MakeCredential challenge between registration's two round trips.

    In the database, not in one worker's memory: the DC-C's second request
    may reach another DC-S worker than its first.  Only a digest of the
    secret and the channel key derived from it are kept.
    """

    __tablename__ = "registration_challenges"
    __table_args__ = (sa.Index(None, "expires_at"),)

    session: orm.Mapped[str] = orm.mapped_column(
        sa.String(64), primary_key=True
    )
    host: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LEN))
    hypervisor_hostname: orm.Mapped[str] = orm.mapped_column(
        sa.String(NAME_LEN)
    )
    cid: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    ek_fingerprint: orm.Mapped[str] = orm.mapped_column(sa.String(128))
    ek_public: orm.Mapped[str] = orm.mapped_column(sa.Text)
    ak_public: orm.Mapped[str] = orm.mapped_column(sa.Text)
    ak_name: orm.Mapped[str] = orm.mapped_column(sa.String(136))
    secret_digest: orm.Mapped[str] = orm.mapped_column(sa.String(128))
    # The channel key derived from the secret (hex), the node's once the
    # activation proves it was recovered.
    channel_key: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    expires_at: orm.Mapped[datetime.datetime] = orm.mapped_column(sa.DateTime)
    # The EK certificate's subject and issuer (RFC 4514), shown to the
    # operator if the host name was never declared.
    ek_subject: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    ek_issuer: orm.Mapped[str | None] = orm.mapped_column(sa.Text)


class PendingRegistration(Base):
    """A verified registration under a host name nobody declared.

    DC-S checked the EK certificate and the credential activation, but the
    node is not attestable until an operator approves it (acaas-manage
    host approve), which turns this row into the node's registration.  One
    per (host, hypervisor, EK); expires at ``expires_at``.
    """

    __tablename__ = "pending_registrations"
    __table_args__ = (
        sa.UniqueConstraint(
            "host",
            "hypervisor_hostname",
            "ek_fingerprint",
            name="uq_pending_registrations_node_ek",
        ),
        sa.Index(None, "expires_at"),
    )

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True)
    host: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LEN))
    hypervisor_hostname: orm.Mapped[str] = orm.mapped_column(
        sa.String(NAME_LEN)
    )
    ek_fingerprint: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    ek_subject: orm.Mapped[str] = orm.mapped_column(sa.Text)
    ek_issuer: orm.Mapped[str] = orm.mapped_column(sa.Text)
    cid: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    ak_public: orm.Mapped[str] = orm.mapped_column(sa.Text)
    ak_name: orm.Mapped[str] = orm.mapped_column(sa.String(136))
    ak_certificate: orm.Mapped[str] = orm.mapped_column(sa.Text)
    # The verifier's initial state (DC-S's JSON), the node's once approved.
    attestation_state: orm.Mapped[str] = orm.mapped_column(sa.Text)
    channel_key: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, nullable=False, default=_utcnow
    )
    expires_at: orm.Mapped[datetime.datetime] = orm.mapped_column(sa.DateTime)


class NodeProperty(Base):
    __tablename__ = "node_properties"
    __table_args__ = (sa.UniqueConstraint("node_id", "key"),)

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True)
    node_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("compute_nodes.id", ondelete="CASCADE")
    )
    key: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LEN))
    value: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LEN))


class RequirementEntry(Base):
    __tablename__ = "requirement_entries"
    __table_args__ = (
        sa.UniqueConstraint("name"),
        sa.CheckConstraint(
            "value_type IN ('string', 'integer', 'boolean', 'list', "
            "'enum:exclusive', 'keyvalue')",
            name="value_type_valid",
        ),
    )

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LEN))
    value_type: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    description: orm.Mapped[str] = orm.mapped_column(sa.Text)


class RequirementSpecification(TimestampMixin, Base):
    """A named set of requirement values of a project (and maybe a user).

    ``user_id`` is the empty string for a project-wide specification so the
    unique constraint holds on every database (NULLs are never equal).
    """

    __tablename__ = "requirement_specifications"
    __table_args__ = (sa.UniqueConstraint("project_id", "user_id", "name"),)

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LEN))
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LEN))
    user_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(NAME_LEN), default=""
    )
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)


class RequirementValue(Base):
    """One value of a specification; ``key`` is e.g. ``capability:gpu``."""

    __tablename__ = "requirement_values"
    __table_args__ = (sa.UniqueConstraint("spec_id", "key"),)

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True)
    spec_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("requirement_specifications.id", ondelete="CASCADE")
    )
    entry_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("requirement_entries.id")
    )
    key: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LEN))
    value: orm.Mapped[str] = orm.mapped_column(sa.Text)


class Whitelist(Base):
    __tablename__ = "whitelists"
    __table_args__ = (sa.UniqueConstraint("name", "version"),)

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LEN))
    # The document's own version string (e.g. "2026.11"); the newest
    # version of a name is the one imported last (highest id).
    version: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    # The JSON document (format in docs/attestation.rst) and its sha256.
    content: orm.Mapped[str] = orm.mapped_column(LONG_TEXT)
    digest: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, nullable=False, default=_utcnow
    )


class InstanceTrust(TimestampMixin, Base):
    """The chapter's extension of nova's ``instances`` table."""

    __tablename__ = "instance_trust"
    __table_args__ = (sa.UniqueConstraint("instance_uuid"),)

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True)
    instance_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36))
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LEN))
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LEN))
    requirement_spec_id: orm.Mapped[int | None] = orm.mapped_column(
        sa.ForeignKey("requirement_specifications.id", ondelete="SET NULL")
    )
    # JSON lists; kept denormalised so one query answers isolation.
    exclude_users: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    exclude_projects: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    exclusive: orm.Mapped[bool] = orm.mapped_column(
        sa.Boolean(create_constraint=False), default=False
    )
    rcot_virtual: orm.Mapped[str | None] = orm.mapped_column(sa.String(128))
    rcot_application: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(128)
    )
    #: The effective (merged) requirements, as acaas_nova.compliance.stored
    #: writes them; NULL for instances scheduled before compliance existed.
    requirements: orm.Mapped[str | None] = orm.mapped_column(sa.Text)


class Event(Base):
    """Append-only log of attestation and compliance events."""

    __tablename__ = "events"
    __table_args__ = (
        sa.CheckConstraint(
            "severity IN ('debug', 'info', 'warning', 'error', 'critical')",
            name="severity_valid",
        ),
        sa.Index(None, "subject", "created_at"),
    )

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, nullable=False, default=_utcnow
    )
    subject: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LEN))
    event_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    severity: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    detail: orm.Mapped[str] = orm.mapped_column(sa.Text)


class ComplianceAction(TimestampMixin, Base):
    """One fence, unfence or migration, durable across DC-S restarts.

    ``open_key`` is ``<kind>:<subject>`` while the action is not finished
    and NULL afterwards: its unique constraint allows one open action per
    subject (every database accepts many NULLs in a unique column).
    """

    __tablename__ = "compliance_actions"
    __table_args__ = (
        sa.UniqueConstraint("open_key"),
        sa.CheckConstraint(
            "kind IN ('fence', 'unfence', 'migrate')", name="kind_valid"
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'running', 'done', 'failed', 'stuck', "
            "'cancelled')",
            name="state_valid",
        ),
        sa.Index(None, "state"),
    )

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True)
    kind: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    subject: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LEN))
    open_key: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(NAME_LEN + 17)
    )
    state: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    source_host: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(NAME_LEN)
    )
    destination_host: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(NAME_LEN)
    )
    tier: orm.Mapped[str | None] = orm.mapped_column(sa.String(16))
    reason: orm.Mapped[str] = orm.mapped_column(sa.Text)
    event_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    attempts: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    next_attempt_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime
    )
    error: orm.Mapped[str | None] = orm.mapped_column(sa.Text)


class ComplianceFlag(Base):
    """Named switches of the compliance manager (e.g. the breaker)."""

    __tablename__ = "compliance_flags"

    name: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    reason: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, nullable=False, default=_utcnow, onupdate=_utcnow
    )
