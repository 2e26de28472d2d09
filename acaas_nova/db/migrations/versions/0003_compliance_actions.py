"""Compliance: durable actions, flags, maintenance windows, stored requirements

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "compliance_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("open_key", sa.String(length=272), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("source_host", sa.String(length=255), nullable=True),
        sa.Column("destination_host", sa.String(length=255), nullable=True),
        sa.Column("tier", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('fence', 'unfence', 'migrate')",
            name=op.f("ck_compliance_actions_kind_valid"),
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'running', 'done', 'failed', 'stuck', "
            "'cancelled')",
            name=op.f("ck_compliance_actions_state_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_actions")),
        sa.UniqueConstraint(
            "open_key", name=op.f("uq_compliance_actions_open_key")
        ),
    )
    with op.batch_alter_table("compliance_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compliance_actions_state"), ["state"], unique=False
        )
    op.create_table(
        "compliance_flags",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_compliance_flags")),
    )
    with op.batch_alter_table(
        "physical_layer_domains", schema=None
    ) as batch_op:
        batch_op.add_column(
            sa.Column("maintenance_since", sa.DateTime(), nullable=True)
        )
    with op.batch_alter_table("instance_trust", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("requirements", sa.Text(), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("instance_trust", schema=None) as batch_op:
        batch_op.drop_column("requirements")
    with op.batch_alter_table(
        "physical_layer_domains", schema=None
    ) as batch_op:
        batch_op.drop_column("maintenance_since")
    op.drop_table("compliance_flags")
    with op.batch_alter_table("compliance_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compliance_actions_state"))
    op.drop_table("compliance_actions")
