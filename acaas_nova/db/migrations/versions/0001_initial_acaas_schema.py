"""Initial ACaaS schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26

The chapter's tables (§12.3.2) and the requirement entries a tenant may use.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "severity IN ('debug', 'info', 'warning', 'error', 'critical')",
            name=op.f("ck_events_severity_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_events_subject_created_at"),
            ["subject", "created_at"],
            unique=False,
        )

    op.create_table(
        "locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locations")),
        sa.UniqueConstraint("name", name=op.f("uq_locations_name")),
    )
    op.create_table(
        "requirement_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("value_type", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "value_type IN ('string', 'integer', 'boolean', 'list', 'enum:exclusive', 'keyvalue')",
            name=op.f("ck_requirement_entries_value_type_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requirement_entries")),
        sa.UniqueConstraint("name", name=op.f("uq_requirement_entries_name")),
    )
    op.create_table(
        "requirement_specifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint(
            "id", name=op.f("pk_requirement_specifications")
        ),
        sa.UniqueConstraint(
            "project_id",
            "user_id",
            "name",
            name=op.f("uq_requirement_specifications_project_id_user_id_name"),
        ),
    )
    op.create_table(
        "whitelists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "content",
            sa.Text()
            .with_variant(mysql.LONGTEXT(), "mariadb")
            .with_variant(mysql.LONGTEXT(), "mysql"),
            nullable=False,
        ),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whitelists")),
        sa.UniqueConstraint(
            "name", "version", name=op.f("uq_whitelists_name_version")
        ),
    )
    op.create_table(
        "instance_trust",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_uuid", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("requirement_spec_id", sa.Integer(), nullable=True),
        sa.Column("exclude_users", sa.Text(), nullable=True),
        sa.Column("exclude_projects", sa.Text(), nullable=True),
        sa.Column("exclusive", sa.Boolean(), nullable=False),
        sa.Column("rcot_virtual", sa.String(length=128), nullable=True),
        sa.Column("rcot_application", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["requirement_spec_id"],
            ["requirement_specifications.id"],
            name=op.f(
                "fk_instance_trust_requirement_spec_id_requirement_specifications"
            ),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance_trust")),
        sa.UniqueConstraint(
            "instance_uuid", name=op.f("uq_instance_trust_instance_uuid")
        ),
    )
    op.create_table(
        "location_distances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location_a_id", sa.Integer(), nullable=False),
        sa.Column("location_b_id", sa.Integer(), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "distance >= 0", name=op.f("ck_location_distances_nonnegative")
        ),
        sa.CheckConstraint(
            "location_a_id < location_b_id",
            name=op.f("ck_location_distances_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["location_a_id"],
            ["locations.id"],
            name=op.f("fk_location_distances_location_a_id_locations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["location_b_id"],
            ["locations.id"],
            name=op.f("fk_location_distances_location_b_id_locations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_location_distances")),
        sa.UniqueConstraint(
            "location_a_id",
            "location_b_id",
            name=op.f("uq_location_distances_location_a_id_location_b_id"),
        ),
    )
    op.create_table(
        "physical_layer_domains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("dcot", sa.String(length=128), nullable=True),
        sa.Column("dcot_computed_at", sa.DateTime(), nullable=True),
        sa.Column("cdcot", sa.String(length=128), nullable=True),
        sa.Column("cdcot_computed_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "source IN ('local', 'emergency')",
            name=op.f("ck_physical_layer_domains_source_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_physical_layer_domains_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_physical_layer_domains")),
        sa.UniqueConstraint(
            "name", name=op.f("uq_physical_layer_domains_name")
        ),
    )
    op.create_table(
        "requirement_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("spec_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["requirement_entries.id"],
            name=op.f("fk_requirement_values_entry_id_requirement_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["spec_id"],
            ["requirement_specifications.id"],
            name=op.f(
                "fk_requirement_values_spec_id_requirement_specifications"
            ),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requirement_values")),
        sa.UniqueConstraint(
            "spec_id", "key", name=op.f("uq_requirement_values_spec_id_key")
        ),
    )
    op.create_table(
        "collaborating_pl_domains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("backup_domain_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "domain_id <> backup_domain_id",
            name=op.f("ck_collaborating_pl_domains_no_self"),
        ),
        sa.ForeignKeyConstraint(
            ["backup_domain_id"],
            ["physical_layer_domains.id"],
            name=op.f(
                "fk_collaborating_pl_domains_backup_domain_id_physical_layer_domains"
            ),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["physical_layer_domains.id"],
            name=op.f(
                "fk_collaborating_pl_domains_domain_id_physical_layer_domains"
            ),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "id", name=op.f("pk_collaborating_pl_domains")
        ),
        sa.UniqueConstraint(
            "domain_id",
            "backup_domain_id",
            name=op.f(
                "uq_collaborating_pl_domains_domain_id_backup_domain_id"
            ),
        ),
        sa.UniqueConstraint(
            "domain_id",
            "priority",
            name=op.f("uq_collaborating_pl_domains_domain_id_priority"),
        ),
    )
    op.create_table(
        "compute_nodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column(
            "hypervisor_hostname", sa.String(length=255), nullable=False
        ),
        sa.Column("compute_node_uuid", sa.String(length=36), nullable=True),
        sa.Column("domain_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rcot", sa.String(length=128), nullable=True),
        sa.Column("whitelists", sa.Text(), nullable=True),
        sa.Column("last_attested_at", sa.DateTime(), nullable=True),
        sa.Column("registered_at", sa.DateTime(), nullable=True),
        sa.Column("cid", sa.String(length=64), nullable=True),
        sa.Column("ak_name", sa.String(length=136), nullable=True),
        sa.Column("ak_public", sa.Text(), nullable=True),
        sa.Column("ak_certificate", sa.Text(), nullable=True),
        sa.Column("ek_fingerprint", sa.String(length=128), nullable=True),
        sa.Column("attestation_state", sa.Text(), nullable=True),
        sa.Column("last_failure_event_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('unknown', 'trusted', 'untrusted')",
            name=op.f("ck_compute_nodes_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["physical_layer_domains.id"],
            name=op.f("fk_compute_nodes_domain_id_physical_layer_domains"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_nodes")),
        sa.UniqueConstraint("cid", name=op.f("uq_compute_nodes_cid")),
        sa.UniqueConstraint(
            "compute_node_uuid",
            name=op.f("uq_compute_nodes_compute_node_uuid"),
        ),
        sa.UniqueConstraint(
            "host",
            "hypervisor_hostname",
            name=op.f("uq_compute_nodes_host_hypervisor_hostname"),
        ),
    )
    op.create_table(
        "domain_capabilities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["physical_layer_domains.id"],
            name=op.f(
                "fk_domain_capabilities_domain_id_physical_layer_domains"
            ),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domain_capabilities")),
        sa.UniqueConstraint(
            "domain_id",
            "key",
            name=op.f("uq_domain_capabilities_domain_id_key"),
        ),
    )
    op.create_table(
        "node_properties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["compute_nodes.id"],
            name=op.f("fk_node_properties_node_id_compute_nodes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_node_properties")),
        sa.UniqueConstraint(
            "node_id", "key", name=op.f("uq_node_properties_node_id_key")
        ),
    )

    _seed_requirement_entries()


# The requirement types a tenant may use; names are the keys of the acaas:
# scheduler-hint vocabulary (docs/scheduler.rst).
REQUIREMENT_ENTRIES = [
    ("location", "list", "Locations where the instance may run."),
    (
        "max_distance",
        "integer",
        "With location: any location within this distance of one of them.",
    ),
    (
        "exclude_users",
        "list",
        "Users whose instances never share a physical host with this one "
        "(the chapter's excluded user list; symmetric).",
    ),
    (
        "exclude_projects",
        "list",
        "Projects whose instances never share a physical host with this one "
        "(symmetric).",
    ),
    (
        "isolation",
        "enum:exclusive",
        "'exclusive': the host runs only this project's instances.",
    ),
    (
        "whitelist",
        "string",
        "Trust level: the host must currently satisfy this named white-list.",
    ),
    (
        "allow_emergency",
        "boolean",
        "Whether emergency (federated) physical domains may be used.",
    ),
    (
        "capability",
        "keyvalue",
        "capability:<key>=<value>: the host's domain capabilities or node "
        "properties must match.",
    ),
]


def _seed_requirement_entries():
    table = sa.table(
        "requirement_entries",
        sa.column("name", sa.String),
        sa.column("value_type", sa.String),
        sa.column("description", sa.Text),
    )
    op.bulk_insert(
        table,
        [
            {"name": name, "value_type": value_type, "description": text}
            for name, value_type, text in REQUIREMENT_ENTRIES
        ],
    )
