"""Models and migrations agree, on SQLite, MariaDB and PostgreSQL."""

import sqlalchemy as sa
from alembic import autogenerate
from alembic import migration as alembic_migration

from acaas_nova.db import api as db_api
from acaas_nova.db import migration
from acaas_nova.db import models
from acaas_nova.db import requirements


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
