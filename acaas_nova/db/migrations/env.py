"""Alembic environment: runs online against the engine we are handed."""

from alembic import context

from acaas_nova.db import migration
from acaas_nova.db import models


def run_migrations_online():
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=models.Base.metadata,
            version_table=migration.VERSION_TABLE,
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
