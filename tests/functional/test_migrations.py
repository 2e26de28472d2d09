"""Models and migrations agree, on SQLite, MariaDB and PostgreSQL."""

import sqlalchemy as sa
from alembic import autogenerate
from alembic import migration as alembic_migration

from acaas_nova.db import api as db_api
from acaas_nova.db import migration
from acaas_nova.db import models
from acaas_nova.db import requirements
from tests.functional.conftest import make_conf


def _compare(engine):
    with engine.connect() as conn:
        ctx = alembic_migration.MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": False,
                "version_table": migration.VERSION_TABLE,
            },
        )
        return autogenerate.compare_metadata(ctx, models.Base.metadata)


def test_models_match_migrations(migrated):
    diff = _compare(db_api.get_engine())
    assert diff == [], diff


def test_version_is_head(migrated):
    assert migration.version() == migration.head()


def test_every_table_created(migrated):
    names = set(sa.inspect(db_api.get_engine()).get_table_names())
    expected = set(models.Base.metadata.tables) | {migration.VERSION_TABLE}
    assert expected <= names


def test_requirement_entries_seeded(migrated):
    _conf, ctx = migrated
    names = {e.name for e in requirements.requirement_entry_list(ctx)}
    assert {
        "location",
        "max_distance",
        "exclude_users",
        "exclude_projects",
        "isolation",
        "whitelist",
        "allow_emergency",
        "capability",
        "domain_trust",
        "backup_trust",
    } <= names
    types = {
        e.name: e.value_type for e in requirements.requirement_entry_list(ctx)
    }
    assert types["domain_trust"] == types["backup_trust"] == "list"


def test_upgrade_is_idempotent(migrated):
    migration.upgrade()
    assert migration.version() == migration.head()


def test_0006_keeps_nodes_and_downgrades(db_url):
    """0005 -> 0006: existing nodes keep their registration and get no
    declared EK; the pending-registration table exists; 0006 -> 0005
    drops it again and the node is still there."""
    db_api.configure(make_conf(db_url), force=True)
    engine = db_api.get_engine()
    migration.upgrade("0005")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO compute_nodes (host, hypervisor_hostname, "
                "status, cid, ek_fingerprint, created_at) VALUES "
                "('old', 'old', 'unknown', 'cid-1', 'ab', :now)"
            ),
            {"now": models._utcnow()},
        )
    migration.upgrade("0006")
    inspector = sa.inspect(engine)
    assert "pending_registrations" in inspector.get_table_names()
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT cid, ek_fingerprint, expected_ek_fingerprint "
                "FROM compute_nodes WHERE host = 'old'"
            )
        ).one()
    assert tuple(row) == ("cid-1", "ab", None)
    migration.downgrade("0005")
    inspector = sa.inspect(engine)
    assert "pending_registrations" not in inspector.get_table_names()
    columns = {c["name"] for c in inspector.get_columns("compute_nodes")}
    assert "expected_ek_fingerprint" not in columns
    challenge_columns = {
        c["name"] for c in inspector.get_columns("registration_challenges")
    }
    assert not {"ek_subject", "ek_issuer"} & challenge_columns
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.text("SELECT cid FROM compute_nodes WHERE host = 'old'")
            ).scalar()
            == "cid-1"
        )
    migration.upgrade()
    assert migration.version() == migration.head()
