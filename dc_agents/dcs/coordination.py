"""Group membership, node ownership and leadership of one DC-S worker.

Workers meet in a tooz group (``[coordination] backend_url``).  Every
``heartbeat_interval`` a background thread heartbeats, runs the tooz
watchers (join/leave callbacks, leader elections) and reads the group's
members; when they change it rebuilds the hash ring and calls
``on_change`` so that the worker rebalances its timers.  A worker whose
heartbeats fail for ``membership_timeout`` seconds owns nothing until it
is back in the group: the others have taken its nodes by then.

Two kinds of exclusive roles:

* :meth:`Coordination.leads` -- singleton roles (the compliance manager):
  a tooz lock per role, taken by whoever asks first and kept alive by the
  heartbeats; it expires with a dead leader after ``membership_timeout``.
* :meth:`Coordination.lock` -- short critical sections any worker may
  enter, one at a time (a domain's chain-of-trust recomputation).

With no backend the worker is alone: it owns every node, leads every role,
and its locks are process-local.
"""

import contextlib
import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator

from acaas_nova import exception
from dc_agents.dcs import ring as ring_mod

LOG = logging.getLogger(__name__)
LOCK_WAIT = 30.0


def default_member_id() -> str:
    return "%s-%d" % (socket.gethostname(), os.getpid())


class Coordination:
    """Who this worker is, who else is alive, and what it owns."""

    def __init__(self, conf, on_change: Callable[[], None] | None = None):
        opts = conf.coordination
        self.url = opts.backend_url or ""
        self.member_id = opts.member_id or default_member_id()
        self.group = opts.group_name.encode("utf-8")
        self.heartbeat_interval = opts.heartbeat_interval
        self.membership_timeout = opts.membership_timeout
        self.replicas = opts.ring_replicas
        self.on_change = on_change
        self._ring = ring_mod.Ring([self.member_id], self.replicas)
        self._coordinator = None
        self._last_beat = time.monotonic()
        self._roles: dict[str, object] = {}
        self._leading: set[str] = set()
        self._local_locks: dict[str, threading.Lock] = {}
        self._mutex = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        """Whether a coordination backend is configured."""
        return bool(self.url)

    # -- life cycle -----------------------------------------------------------

    def start(self) -> None:
        """Connect, join the group and read its members (no-op alone)."""
        if not self.enabled:
            return
        from tooz import coordination as tooz_coordination

        lock_timeout = max(1, math.ceil(self.membership_timeout))
        try:
            self._coordinator = tooz_coordination.get_coordinator(
                self.url,
                self.member_id.encode("utf-8"),
                membership_timeout=str(self.membership_timeout),
                lock_timeout=str(lock_timeout),
            )
            self._coordinator.start(start_heart=False)
            self._coordinator.heartbeat()
            self._join()
            self._coordinator.watch_join_group(self.group, self._joined)
            self._coordinator.watch_leave_group(self.group, self._left)
            self._refresh()
        except Exception as exc:  # tooz and its drivers raise many kinds
            raise exception.CoordinationError(
                reason="cannot join group %s at [coordination] backend_url: %s"
                % (self.group.decode(), str(exc).splitlines()[0])
            ) from None
        self._last_beat = time.monotonic()
        LOG.info(
            "Joined DC-S group %s as %s: %d member(s)",
            self.group.decode(),
            self.member_id,
            len(self._ring),
        )
        self._thread = threading.Thread(
            target=self._run, name="coordination", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Give up roles, leave the group and disconnect."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        if self._coordinator is None:
            return
        for role in list(self._leading):
            self._release_role(role)
        try:
            self._coordinator.leave_group(self.group).get()
        except Exception as exc:
            LOG.warning("Could not leave group cleanly: %s", exc)
        try:
            self._coordinator.stop()
        except Exception as exc:
            LOG.warning("Could not stop the coordinator cleanly: %s", exc)
        self._coordinator = None

    def _join(self) -> None:
        from tooz import coordination as tooz_coordination

        try:
            self._coordinator.join_group_create(self.group)
        except tooz_coordination.MemberAlreadyExist:
            pass

    # -- the periodic tick ----------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.wait(self.heartbeat_interval):
            try:
                self.tick()
            except Exception as exc:
                LOG.warning(
                    "Coordination backend unreachable (%s); this worker "
                    "owns nothing after %.0fs without a heartbeat",
                    str(exc).splitlines()[0] if str(exc) else type(exc),
                    self.membership_timeout,
                )

    def tick(self) -> None:
        """Heartbeat, run watchers, re-read members, keep roles alive."""
        self._coordinator.heartbeat()
        self._last_beat = time.monotonic()
        self._coordinator.run_watchers()
        self._refresh()
        for role in list(self._leading):
            try:
                alive = self._roles[role].heartbeat()
            except Exception:
                alive = False
            if not alive:
                LOG.warning("Lost the lead of %s", role)
                with self._mutex:
                    self._leading.discard(role)

    def _refresh(self) -> None:
        members = {
            m.decode("utf-8")
            for m in self._coordinator.get_members(self.group).get()
        }
        if self.member_id not in members:
            # Our membership expired (heartbeats failed): join again.
            self._join()
            members.add(self.member_id)
        if members == self._ring.members:
            return
        LOG.info(
            "DC-S group %s: members %s",
            self.group.decode(),
            ", ".join(sorted(members)),
        )
        with self._mutex:
            self._ring = ring_mod.Ring(members, self.replicas)
        if self.on_change is not None:
            self.on_change()

    def _joined(self, event) -> None:
        LOG.info("DC-S worker %s joined", event.member_id.decode())

    def _left(self, event) -> None:
        LOG.info("DC-S worker %s left", event.member_id.decode())

    # -- queries --------------------------------------------------------------

    def alive(self) -> bool:
        """False once heartbeats have failed for membership_timeout (the
        other workers no longer count this one)."""
        if not self.enabled:
            return True
        return time.monotonic() - self._last_beat < self.membership_timeout

    def members(self) -> frozenset[str]:
        """The live workers as last read (this one included)."""
        return self._ring.members

    def owns(self, key) -> bool:
        """Whether this worker attests node ``key`` = (host, hypervisor)."""
        if not self.enabled:
            return True
        if not self.alive():
            return False
        return self._ring.owner(ring_mod.node_key(*key)) == self.member_id

    def owner(self, key) -> str | None:
        """The worker that owns node ``key`` (None: no coordination)."""
        if not self.enabled:
            return None
        return self._ring.owner(ring_mod.node_key(*key))

    def leads(self, role: str) -> bool:
        """Whether this worker holds singleton ``role``; asks for it when
        not (so the first worker to ask becomes the leader)."""
        if not self.enabled:
            return True
        if not self.alive():
            return False
        with self._mutex:
            if role in self._leading:
                return True
            lock = self._roles.get(role)
            if lock is None:
                lock = self._roles[role] = self._coordinator.get_lock(
                    b"acaas-leader-" + self.group + b"-" + role.encode()
                )
        try:
            acquired = lock.acquire(blocking=False)
        except Exception as exc:
            LOG.warning("Cannot ask for role %s: %s", role, exc)
            return False
        if acquired:
            LOG.info("This worker (%s) now leads %s", self.member_id, role)
            with self._mutex:
                self._leading.add(role)
        return bool(acquired)

    def _release_role(self, role: str) -> None:
        with self._mutex:
            self._leading.discard(role)
            lock = self._roles.get(role)
        try:
            lock.release()
        except Exception as exc:
            LOG.warning("Could not release role %s: %s", role, exc)

    @contextlib.contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """Hold the group-wide lock ``name`` for the block (waits for it)."""
        if not self.enabled:
            with self._mutex:
                local = self._local_locks.setdefault(name, threading.Lock())
            with local:
                yield
            return
        lock = self._coordinator.get_lock(
            b"acaas-lock-" + self.group + b"-" + name.encode()
        )
        if not lock.acquire(blocking=LOCK_WAIT):
            raise exception.CoordinationError(
                reason="lock %s not acquired in %ss" % (name, LOCK_WAIT)
            )
        try:
            yield
        finally:
            lock.release()
