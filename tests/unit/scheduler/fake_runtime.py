"""An in-memory stand-in for scheduler.runtime.Runtime in unit tests.

Unit tests do no I/O; the real Runtime (database-backed) is exercised by the
functional tests inside nova.
"""

import types

from acaas_nova import exception
from acaas_nova.scheduler import matching
from acaas_nova.scheduler import runtime
from tests.unit.scheduler import snapshots


class FakeRuntime:
    def __init__(self, snap=None, constraints=(), specs=None, policy=None):
        snap = snap or snapshots.snapshot()
        self.snapshots = runtime.SnapshotCache(lambda: snap, lambda: 1e9)
        self.owners = runtime.OwnerCache()
        self._constraints = list(constraints)
        self._specs = specs or {}
        self._policy = policy or matching.Policy(True, 1e12)
        self.recorded = []
        self.conf = types.SimpleNamespace(
            acaas=types.SimpleNamespace(weight_multiplier=10.0)
        )
        self.fail_with = None

    def policy(self):
        return self._policy

    def constraints(self, topology, user_id, project_id):
        if self.fail_with:
            raise self.fail_with
        return list(self._constraints)

    def exclusive_owners(self, topology):
        # Exclusive records come through constraints() here.
        return ()

    def stored_spec(self, project_id, user_id):
        def lookup(name):
            try:
                return self._specs[(project_id, name)]
            except KeyError:
                raise exception.NotFound(
                    kind="Requirement specification", name=name
                ) from None

        return lookup

    def record(self, record):
        self.recorded.append(record)
        self._constraints = [
            c
            for c in self._constraints
            if c.instance_uuid != record.instance_uuid
        ]
        if record.exclude_users or record.exclude_projects or record.exclusive:
            self._constraints.append(record)
        self.owners.update(
            {record.instance_uuid: (record.user_id, record.project_id)}
        )
