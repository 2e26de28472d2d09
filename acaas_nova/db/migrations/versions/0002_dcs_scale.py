"""DC-S at scale: node ownership and shared registration challenges

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03

``compute_nodes.dcs_owner`` names the DC-S worker that attests a node (the
write-time ownership guard); ``registration_challenges`` keeps pending
MakeCredential challenges where every worker can see them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("compute_nodes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("dcs_owner", sa.String(length=255), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_compute_nodes_dcs_owner"),
            ["dcs_owner"],
            unique=False,
        )
    op.create_table(
        "registration_challenges",
        sa.Column("session", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column(
            "hypervisor_hostname", sa.String(length=255), nullable=False
        ),
        sa.Column("cid", sa.String(length=64), nullable=False),
        sa.Column("ek_fingerprint", sa.String(length=128), nullable=False),
        sa.Column("ek_public", sa.Text(), nullable=False),
        sa.Column("ak_public", sa.Text(), nullable=False),
        sa.Column("ak_name", sa.String(length=136), nullable=False),
        sa.Column("secret_digest", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "session", name=op.f("pk_registration_challenges")
        ),
    )
    with op.batch_alter_table(
        "registration_challenges", schema=None
    ) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registration_challenges_expires_at"),
            ["expires_at"],
            unique=False,
        )


def downgrade():
    op.drop_table("registration_challenges")
    with op.batch_alter_table("compute_nodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compute_nodes_dcs_owner"))
        batch_op.drop_column("dcs_owner")
