"""The scheduler's cached :class:`Topology`, reloaded by age, single-flight.

Every scheduling request asks :meth:`SnapshotCache.topology`.  A fresh
snapshot is returned at once.  When it is too old, one load runs in a
thread of its own and every request that arrives meanwhile waits for that
same load, each for at most ``timeout`` seconds counted from the moment the
load started; no lock is held while anybody waits.  So a stalled database
costs each request at most ``timeout`` (a request that arrives when the
load has already taken longer gives up at once), requests are never
serialised behind each other, at most one load is ever in flight, and the
first load that succeeds after the database is back serves everyone again.
A failed or timed-out load caches nothing: callers fail closed.

A load still in flight after :data:`ABANDON_AFTER` timeouts (a driver with
no read timeout, talking to a peer that vanished) is abandoned: the next
request starts a fresh one, and the old one's late result is dropped.
"""

import logging
import threading
import time
from collections.abc import Callable

from acaas_nova import exception
from acaas_nova.db import records
from acaas_nova.scheduler import topology as topo_mod

LOG = logging.getLogger(__name__)

#: A load older than this many timeouts is abandoned for a fresh one.
ABANDON_AFTER = 10


class _Load:
    """One load in flight: its start time and, when done, its outcome."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.done = threading.Event()
        self.topology: topo_mod.Topology | None = None
        self.error: Exception | None = None


class SnapshotCache:
    """The current topology, reloaded when older than ``max_age``."""

    def __init__(
        self,
        load: Callable[[], records.SchedulingSnapshot],
        max_age: Callable[[], float],
        clock: Callable[[], float] = time.monotonic,
        timeout: Callable[[], float] | None = None,
        on_loaded: Callable[[float], None] | None = None,
    ) -> None:
        """
        :param load: reads one snapshot (raises DBError when it cannot).
        :param max_age: seconds a snapshot is reused.
        :param timeout: seconds a request waits for a load (None: no bound,
            the load runs in the caller's thread).
        :param on_loaded: called with the monotonic start time of every
            load that succeeded.
        """
        self._load = load
        self._max_age = max_age
        self._clock = clock
        self._timeout = timeout
        self._on_loaded = on_loaded
        # Guards only the two fields below, never held while loading.
        self._lock = threading.Lock()
        self._current: tuple[float, topo_mod.Topology] | None = None
        self._inflight: _Load | None = None
        #: Loads started (tests count them to prove requests share one).
        self.loads_started = 0

    def _fresh(self) -> topo_mod.Topology | None:
        current = self._current
        if current and self._clock() - current[0] < self._max_age():
            return current[1]
        return None

    def topology(self) -> topo_mod.Topology:
        """The cached topology; reads the DB only when it is too old.

        :raises DBError: the database cannot be read, or not within the
            timeout (callers fail closed).
        """
        fresh = self._fresh()
        if fresh is not None:
            return fresh
        with self._lock:
            fresh = self._fresh()
            if fresh is not None:
                return fresh
            flight = self._inflight
            if (
                flight is not None
                and self._timeout is not None
                and self._clock() - flight.started
                > ABANDON_AFTER * self._timeout()
            ):
                LOG.error(
                    "ACaaS snapshot load stuck for %.0fs; starting a new one",
                    self._clock() - flight.started,
                )
                flight = None
            starter = flight is None
            if starter:
                flight = self._inflight = _Load(self._clock())
                self.loads_started += 1
        assert flight is not None
        if self._timeout is None:
            if starter:
                self._run(flight)
            flight.done.wait()
        else:
            if starter:
                threading.Thread(
                    target=self._run,
                    args=(flight,),
                    name="acaas-snapshot-load",
                    daemon=True,
                ).start()
            left = flight.started + self._timeout() - self._clock()
            if not flight.done.wait(max(left, 0.0)):
                raise exception.DBError(
                    reason="no answer from the ACaaS database within "
                    "%.1fs (snapshot load in flight for %.1fs)"
                    % (self._timeout(), self._clock() - flight.started)
                )
        if flight.error is not None:
            raise flight.error
        assert flight.topology is not None
        return flight.topology

    def _run(self, flight: _Load) -> None:
        try:
            topo = topo_mod.Topology(self._load())
        except exception.ACaaSException as exc:
            flight.error = exc
        except Exception as exc:  # a defect must not leave waiters hanging
            LOG.debug("ACaaS snapshot load failed", exc_info=True)
            flight.error = exception.DBError(
                reason="snapshot load failed: %s" % type(exc).__name__
            )
        else:
            flight.topology = topo
            LOG.debug(
                "ACaaS snapshot refreshed: %d nodes, %d domains",
                len(topo.nodes),
                len(topo.domains),
            )
        with self._lock:
            if self._inflight is flight:
                if flight.topology is not None:
                    self._current = (flight.started, flight.topology)
                self._inflight = None
        flight.done.set()
        if flight.topology is not None and self._on_loaded is not None:
            self._on_loaded(flight.started)

    def invalidate(self) -> None:
        with self._lock:
            self._current = None
