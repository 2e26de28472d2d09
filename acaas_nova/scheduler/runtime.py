"""Process-wide state shared by the ACaaS filter and weigher.

nova instantiates each filter and weigher once per scheduler process and
calls them from several native threads (nova 34).  They share one
:class:`Runtime` per ``ConfigOpts``: a snapshot of trust, domain, location
and isolation state refreshed by age (:class:`SnapshotCache`, single-flight
and bounded by ``[acaas] db_timeout``), a cache of instance owners
(:class:`OwnerCache`) and the write-behind queue of instance trust records
(:class:`~acaas_nova.scheduler.recorder.TrustRecorder`).  All are safe to
use from many threads: readers take an immutable reference, writers hold a
short lock, and nobody holds a lock while waiting for the database.

Queued records are flushed when the process ends normally (``atexit``:
nova-scheduler's graceful stop on SIGTERM ends that way) and by
:func:`reset`.
"""

import atexit
import logging
import threading
import weakref

from acaas_nova import conf as acaas_conf
from acaas_nova import context as acaas_context
from acaas_nova import exception
from acaas_nova.conf import database as database_conf
from acaas_nova.db import api as db_api
from acaas_nova.db import instances as instances_db
from acaas_nova.db import records
from acaas_nova.db import requirements as requirements_db
from acaas_nova.db import snapshot as snapshot_db
from acaas_nova.scheduler import db_timeouts
from acaas_nova.scheduler import matching
from acaas_nova.scheduler import recorder as recorder_mod
from acaas_nova.scheduler import topology as topo_mod
from acaas_nova.scheduler.snapshot_cache import SnapshotCache

__all__ = ["OwnerCache", "Runtime", "SnapshotCache", "get", "reset"]

LOG = logging.getLogger(__name__)

#: Owner entries kept before the cache starts over (instances never change
#: owner, so entries are never stale; this only bounds memory).
OWNER_CACHE_SIZE = 200_000


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
        db_api.configure(
            conf,
            overrides=db_timeouts.engine_overrides(
                conf, database_conf.connection_url(conf)
            ),
        )
        self.context = acaas_context.get_admin_context()
        self.recorder = recorder_mod.TrustRecorder(
            lambda recs: instances_db.instance_trust_set_many(
                acaas_context.get_admin_context(), recs
            ),
            capacity=conf.acaas.record_queue_size,
            flush_interval=conf.acaas.record_flush_interval,
            batch_size=conf.acaas.record_batch_size,
        )
        self.snapshots = SnapshotCache(
            lambda: snapshot_db.snapshot_get(
                acaas_context.get_admin_context()
            ),
            lambda: conf.acaas.snapshot_max_age,
            timeout=lambda: float(conf.acaas.db_timeout),
            on_loaded=self.recorder.loaded,
        )
        self.owners = OwnerCache()
        _track(self)

    def policy(self) -> matching.Policy:
        return matching.Policy(
            require_attestation=self.conf.acaas.require_attestation,
            attestation_ttl=float(self.conf.acaas.attestation_ttl),
        )

    def constraints(
        self, topology: topo_mod.Topology, user_id: str, project_id: str
    ) -> list[records.InstanceTrust]:
        """The isolation look-up: records that may exclude this requester.

        From memory: the snapshot's constraining records with this
        process's queued and recently written ones merged in (a newer
        record of the same instance wins).
        """
        overlay = self.recorder.overlay
        found = [
            r
            for r in topology.constraints.candidates(user_id, project_id)
            if r.instance_uuid not in overlay
        ]
        found.extend(overlay.candidates(user_id, project_id))
        return found

    def exclusive_owners(self, topology: topo_mod.Topology) -> tuple:
        """uuid -> project maps of exclusive instances (snapshot, newer)."""
        return (
            topology.constraints.exclusive,
            self.recorder.overlay.exclusive,
        )

    def stored_spec(self, project_id: str, user_id: str | None):
        """A look-up of stored specifications for one requester."""
        return stored_spec_lookup(self.context, project_id, user_id)

    def record(self, record: records.InstanceTrust) -> None:
        """Remember an instance's requirements for later symmetric checks.

        Queued for the background writer; visible to this process's next
        request at once.

        :raises DBError: the queue is full and the record could not be
            written either (the request is then refused).
        """
        self.recorder.submit(record)
        self.owners.update(
            {record.instance_uuid: (record.user_id, record.project_id)}
        )

    def stop(self, timeout: float | None = None) -> int:
        """Flush queued records; returns how many could not be written."""
        if timeout is None:
            timeout = 2.0 * self.conf.acaas.db_timeout
        return self.recorder.stop(timeout)


_RUNTIMES: dict[int, Runtime] = {}
_RUNTIMES_LOCK = threading.Lock()
_LIVE: "weakref.WeakSet[Runtime]" = weakref.WeakSet()
# Not _RUNTIMES_LOCK: get() holds that one while a Runtime is created.
_LIVE_LOCK = threading.Lock()
_ATEXIT_REGISTERED = False


def _track(runtime: Runtime) -> None:
    """Flush this runtime's queue when the process ends normally."""
    global _ATEXIT_REGISTERED
    with _LIVE_LOCK:
        _LIVE.add(runtime)
        if not _ATEXIT_REGISTERED:
            atexit.register(_stop_all)
            _ATEXIT_REGISTERED = True


def _stop_all() -> None:
    with _LIVE_LOCK:
        runtimes = list(_LIVE)
    for runtime in runtimes:
        runtime.stop()


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
    """Flush and forget every Runtime (tests that start a new scheduler)."""
    with _RUNTIMES_LOCK:
        runtimes = list(_RUNTIMES.values())
        _RUNTIMES.clear()
    for runtime in runtimes:
        runtime.stop()
