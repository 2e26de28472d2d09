"""Process-wide state shared by the ACaaS filter and weigher.

nova instantiates each filter and weigher once per scheduler process and
calls them from several native threads (nova 34).  They share one
:class:`Runtime` per ``ConfigOpts``: a snapshot of trust, domain and
location state refreshed by age (:class:`SnapshotCache`), and a cache of
instance owners (:class:`OwnerCache`).  Both are safe to use from many
threads: readers take an immutable reference, writers hold a lock.
"""

import logging
import threading
import time
from collections.abc import Callable

from acaas_nova import conf as acaas_conf
from acaas_nova import context as acaas_context
from acaas_nova import exception
from acaas_nova.db import api as db_api
from acaas_nova.db import instances as instances_db
from acaas_nova.db import isolation as isolation_db
from acaas_nova.db import records
from acaas_nova.db import requirements as requirements_db
from acaas_nova.db import snapshot as snapshot_db
from acaas_nova.scheduler import matching
from acaas_nova.scheduler import topology as topo_mod

LOG = logging.getLogger(__name__)

#: Owner entries kept before the cache starts over (instances never change
#: owner, so entries are never stale; this only bounds memory).
OWNER_CACHE_SIZE = 200_000


class SnapshotCache:
    """The current :class:`Topology`, reloaded when older than max_age."""

    def __init__(
        self,
        load: Callable[[], records.SchedulingSnapshot],
        max_age: Callable[[], float],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._current: tuple[float, topo_mod.Topology] | None = None

    def topology(self) -> topo_mod.Topology:
        """The cached topology; reads the DB only when it is too old.

        :raises DBError: the database cannot be read (callers fail closed).
        """
        current = self._current
        if current and self._clock() - current[0] < self._max_age():
            return current[1]
        with self._lock:
            # Another thread may have refreshed while we waited.
            current = self._current
            if current and self._clock() - current[0] < self._max_age():
                return current[1]
            topo = topo_mod.Topology(self._load())
            self._current = (self._clock(), topo)
            LOG.debug(
                "ACaaS snapshot refreshed: %d nodes, %d domains",
                len(topo.nodes),
                len(topo.domains),
            )
            return topo

    def invalidate(self) -> None:
        with self._lock:
            self._current = None


class OwnerCache:
    """instance uuid -> (user_id, project_id)."""

    def __init__(self, size: int = OWNER_CACHE_SIZE) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._owners: dict[str, tuple[str, str]] = {}

    def get(self, uuid: str) -> tuple[str, str] | None:
        return self._owners.get(uuid)

    def update(self, owners: dict[str, tuple[str, str]]) -> None:
        with self._lock:
            if len(self._owners) + len(owners) > self._size:
                self._owners = {}
            self._owners.update(owners)


def stored_spec_lookup(context, project_id: str, user_id: str | None):
    """name -> values of a stored requirement specification.

    A specification of the user wins over the project's one of the same
    name; an unknown name raises NotFound.
    """

    def lookup(name: str) -> dict[str, str]:
        if user_id:
            try:
                return requirements_db.requirement_spec_get(
                    context, project_id, name, user_id=user_id
                ).values
            except exception.NotFound:
                pass
        return requirements_db.requirement_spec_get(
            context, project_id, name
        ).values

    return lookup


class Runtime:
    """What the filter and weigher need from config and our database."""

    def __init__(self, conf) -> None:
        acaas_conf.register_opts(conf)
        self.conf = conf
        db_api.configure(conf)
        self.context = acaas_context.get_admin_context()
        self.snapshots = SnapshotCache(
            lambda: snapshot_db.snapshot_get(self.context),
            lambda: conf.acaas.snapshot_max_age,
        )
        self.owners = OwnerCache()

    def policy(self) -> matching.Policy:
        return matching.Policy(
            require_attestation=self.conf.acaas.require_attestation,
            attestation_ttl=float(self.conf.acaas.attestation_ttl),
        )

    def constraints(
        self, user_id: str, project_id: str
    ) -> list[records.InstanceTrust]:
        """The isolation look-up: records that may exclude this requester."""
        return isolation_db.instance_blockers_get(
            self.context, user_id, project_id
        )

    def stored_spec(self, project_id: str, user_id: str | None):
        """A look-up of stored specifications for one requester."""
        return stored_spec_lookup(self.context, project_id, user_id)

    def record(self, record: records.InstanceTrust) -> None:
        """Remember an instance's requirements for later symmetric checks."""
        instances_db.instance_trust_set(self.context, record)
        self.owners.update(
            {record.instance_uuid: (record.user_id, record.project_id)}
        )


_RUNTIMES: dict[int, Runtime] = {}
_RUNTIMES_LOCK = threading.Lock()


def get(conf) -> Runtime:
    """The process's Runtime for ``conf`` (created on first use)."""
    runtime = _RUNTIMES.get(id(conf))
    if runtime is not None and runtime.conf is conf:
        return runtime
    with _RUNTIMES_LOCK:
        runtime = _RUNTIMES.get(id(conf))
        if runtime is None or runtime.conf is not conf:
            runtime = _RUNTIMES[id(conf)] = Runtime(conf)
        return runtime


def reset() -> None:
    """Forget every Runtime (tests that start a new scheduler)."""
    with _RUNTIMES_LOCK:
        _RUNTIMES.clear()
