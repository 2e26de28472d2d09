"""Alembic wrapped as upgrade / version / stamp for acaas-manage and tests.

Our tables have their own version table (``acaas_alembic_version``) so they
can share a database server, even a schema, with nova's without conflict.
"""

import os

from alembic import command as alembic_command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from alembic import script as alembic_script

from acaas_nova.db import api as db_api

VERSION_TABLE = "acaas_alembic_version"
_SCRIPT_LOCATION = os.path.join(os.path.dirname(__file__), "migrations")


def _config(engine):
    cfg = alembic_config.Config()
    cfg.set_main_option("script_location", _SCRIPT_LOCATION)
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(version="head", engine=None):
    """Upgrade the configured database (or ``engine``) to ``version``."""
    engine = engine or db_api.get_engine()
    alembic_command.upgrade(_config(engine), version)


def downgrade(version, engine=None):
    """Downgrade the configured database (or ``engine``) to ``version``."""
    engine = engine or db_api.get_engine()
    alembic_command.downgrade(_config(engine), version)


def stamp(version, engine=None):
    engine = engine or db_api.get_engine()
    alembic_command.stamp(_config(engine), version)


def version(engine=None):
    """The current revision, or None for an empty database."""
    engine = engine or db_api.get_engine()
    with engine.connect() as conn:
        ctx = alembic_migration.MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE}
        )
        return ctx.get_current_revision()


def head():
    """The newest revision the code knows."""
    scripts = alembic_script.ScriptDirectory(_SCRIPT_LOCATION)
    return scripts.get_current_head()
