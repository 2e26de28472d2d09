"""``acaas-manage db``: create or upgrade acaas-nova's tables."""

from acaas_nova.cmd import base
from acaas_nova.db import migration


class DbCommands(base.Commands):
    """Schema migrations of acaas-nova's own database."""

    help = "database schema (sync, version)"

    @classmethod
    def add_actions(cls, actions) -> None:
        base.action(
            actions,
            cls,
            "sync",
            "create or upgrade every acaas-nova table to the current schema",
            needs=base.NEEDS_DB,
        )
        base.action(
            actions,
            cls,
            "version",
            "print the schema version of the database and of the code",
            needs=base.NEEDS_DB,
        )

    def sync(self, args) -> int:
        migration.upgrade()
        current = migration.version()
        self.out.done(
            "Database schema is at version %s" % current, {"version": current}
        )
        return 0

    def version(self, args) -> int:
        data = {"current": migration.version(), "head": migration.head()}
        self.out.show(
            [("Database version", "current"), ("Code version", "head")], data
        )
        return 0
