"""Authenticated agent channel: per-node channel keys and counters

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

``compute_nodes.channel_key`` holds the key DC-S shares with a registered
node (derived from its credential secret), ``channel_counter`` the
highest message counter accepted from it; ``registration_challenges``
keeps the key between registration's two requests.  Nodes registered
before this revision have no key: they must register again.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("compute_nodes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel_key", sa.String(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column("channel_counter", sa.BigInteger(), nullable=True)
        )
    with op.batch_alter_table(
        "registration_challenges", schema=None
    ) as batch_op:
        batch_op.add_column(
            sa.Column("channel_key", sa.String(length=64), nullable=True)
        )


def downgrade():
    with op.batch_alter_table(
        "registration_challenges", schema=None
    ) as batch_op:
        batch_op.drop_column("channel_key")
    with op.batch_alter_table("compute_nodes", schema=None) as batch_op:
        batch_op.drop_column("channel_counter")
        batch_op.drop_column("channel_key")
