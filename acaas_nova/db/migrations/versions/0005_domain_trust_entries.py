"""Requirement entries domain_trust and backup_trust; operator-change marker

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

Tenants may require, by hint or stored specification, that every node of
their server's physical domain (``domain_trust``) or of the domain and its
collaborating domains (``backup_trust``) is trusted under named
white-lists: the domain's DCoT, or the CDCoT, holds them.

The ``operator_change`` row of ``compliance_flags`` is created here, so
that operator commands only ever update it (no insert race between two
commands); see ``acaas_nova/db/changes.py``.
"""

import datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ENTRIES = [
    (
        "domain_trust",
        "list",
        "White-lists under which every node of the host's physical domain "
        "must be trusted (the domain's DCoT is defined and holds them).",
    ),
    (
        "backup_trust",
        "list",
        "White-lists under which every node of the host's domain and of "
        "its collaborating domains must be trusted (the CDCoT).",
    ),
]


OPERATOR_CHANGE = "operator_change"


def _flags():
    return sa.table(
        "compliance_flags",
        sa.column("name", sa.String),
        sa.column("value", sa.String),
        sa.column("reason", sa.Text),
        sa.column("updated_at", sa.DateTime),
    )


def _table():
    return sa.table(
        "requirement_entries",
        sa.column("name", sa.String),
        sa.column("value_type", sa.String),
        sa.column("description", sa.Text),
    )


def upgrade():
    op.bulk_insert(
        _table(),
        [
            {"name": name, "value_type": value_type, "description": text}
            for name, value_type, text in ENTRIES
        ],
    )
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    op.bulk_insert(
        _flags(),
        [
            {
                "name": OPERATOR_CHANGE,
                "value": "",
                "reason": None,
                "updated_at": now,
            }
        ],
    )


def downgrade():
    flags = _flags()
    op.execute(flags.delete().where(flags.c.name == OPERATOR_CHANGE))
    table = _table()
    op.execute(
        table.delete().where(table.c.name.in_([n for n, _, _ in ENTRIES]))
    )
