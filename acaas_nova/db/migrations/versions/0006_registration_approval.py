"""No first-come host names: declared EKs and registrations awaiting approval

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

``compute_nodes.expected_ek_fingerprint``: the EK an operator declared for
the node (``acaas-manage host add --ek-fingerprint``); NULL accepts the
first EK that registers under the declared name.  ``pending_registrations``
holds verified registrations under host names nobody declared, until an
operator approves (``acaas-manage host approve``) or rejects them, or they
expire.  ``registration_challenges`` keeps the EK certificate's subject
and issuer between registration's two requests, for the operator to see.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("compute_nodes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "expected_ek_fingerprint", sa.String(length=64), nullable=True
            )
        )
    with op.batch_alter_table(
        "registration_challenges", schema=None
    ) as batch_op:
        batch_op.add_column(sa.Column("ek_subject", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("ek_issuer", sa.Text(), nullable=True))
    op.create_table(
        "pending_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column(
            "hypervisor_hostname", sa.String(length=255), nullable=False
        ),
        sa.Column("ek_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("ek_subject", sa.Text(), nullable=False),
        sa.Column("ek_issuer", sa.Text(), nullable=False),
        sa.Column("cid", sa.String(length=64), nullable=False),
        sa.Column("ak_public", sa.Text(), nullable=False),
        sa.Column("ak_name", sa.String(length=136), nullable=False),
        sa.Column("ak_certificate", sa.Text(), nullable=False),
        sa.Column("attestation_state", sa.Text(), nullable=False),
        sa.Column("channel_key", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_registrations")),
        sa.UniqueConstraint(
            "host",
            "hypervisor_hostname",
            "ek_fingerprint",
            name="uq_pending_registrations_node_ek",
        ),
    )
    op.create_index(
        op.f("ix_pending_registrations_expires_at"),
        "pending_registrations",
        ["expires_at"],
    )


def downgrade():
    op.drop_index(
        op.f("ix_pending_registrations_expires_at"),
        table_name="pending_registrations",
    )
    op.drop_table("pending_registrations")
    with op.batch_alter_table(
        "registration_challenges", schema=None
    ) as batch_op:
        batch_op.drop_column("ek_issuer")
        batch_op.drop_column("ek_subject")
    with op.batch_alter_table("compute_nodes", schema=None) as batch_op:
        batch_op.drop_column("expected_ek_fingerprint")
