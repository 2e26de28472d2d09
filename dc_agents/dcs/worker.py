"""One DC-S worker among several: its share of the nodes and its timers.

The hash ring (:mod:`coordination`) says which registered nodes this
worker should attest; :meth:`Worker.rebalance` makes its timers match:
it claims the nodes it gained in the database
(:func:`acaas_nova.db.ownership.nodes_claim`; a claim fails while the
previous owner is alive and has not yet released the node, and is retried
every heartbeat), arms their timers to attest soon, and disarms and
releases the nodes it lost.  Rebalancing runs when the membership changes
and every half attestation interval (to find nodes that registered
through another worker).

Alone (no coordination backend) the worker owns every node and nothing is
claimed: today's single DC-S.
"""

import hashlib
import logging
import threading

from acaas_nova import context as acaas_context
from acaas_nova import exception
from acaas_nova.db import attestation as attestation_db
from acaas_nova.db import ownership

LOG = logging.getLogger(__name__)


class NonceLog:
    """A DC-C client that logs, at debug, a digest of every nonce it sends
    and the worker that sent it (evidence that no nonce is used twice)."""

    def __init__(self, api, member_id: str) -> None:
        self.api = api
        self.member_id = member_id

    def quote(self, host, hypervisor, nonce, *args, **kwargs):
        LOG.debug(
            "Quote of %s:%s asked by %s, nonce sha256 %s",
            host,
            hypervisor,
            self.member_id,
            hashlib.sha256(nonce).hexdigest()[:32],
        )
        return self.api.quote(host, hypervisor, nonce, *args, **kwargs)


class OwnedTimers:
    """The timer wheel as the RPC endpoint and the registrar see it: a
    node is armed only if this worker owns it."""

    def __init__(self, worker) -> None:
        self.worker = worker
        self.wheel = worker.wheel

    def add(self, key, delay=None) -> None:
        key = tuple(key)
        if self.worker.take(key):
            self.wheel.add(key, delay)

    def trigger(self, key) -> None:
        self.add(key, 0.0)

    def remove(self, key) -> None:
        self.wheel.remove(tuple(key))

    def __contains__(self, key) -> bool:
        return tuple(key) in self.wheel

    def __len__(self) -> int:
        return len(self.wheel)

    def answer(self, round_id, key, raw, error, signed=None) -> None:
        """A round answer, for the round runner that opened the round."""
        self.wheel.answer(round_id, key, raw, error, signed)

    def answers(self, entries) -> None:
        """A batch of round answers (the answers listener)."""
        self.wheel.answers(entries)


class Worker:
    """Keeps this worker's timers equal to its share of the nodes."""

    def __init__(self, conf, coord, wheel, attester, dcs_api=None):
        self.conf = conf
        self.coord = coord
        self.wheel = wheel
        self.attester = attester
        self.dcs_api = dcs_api  # operator API: to reach the other workers
        self.ctx = acaas_context.get_admin_context()
        self.timers = OwnedTimers(self)
        self._claimed: set[tuple[str, str]] = set()
        self._pending: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="rebalance", daemon=True
        )
        coord.on_change = self._wake.set

    # -- the timer job --------------------------------------------------------

    def job(self, key) -> bool:
        """The wheel's job: attest ``key`` if this worker still owns it."""
        if not self.coord.owns(key):
            return False
        keep = self.attester.timer_job(key)
        if not keep and self.coord.enabled:
            # Unregistered, revoked, or owned by another worker in the
            # database: the next rebalance decides again.
            with self._lock:
                self._claimed.discard(key)
        return keep

    def forward(self, key):
        """attest_host for a node another worker owns: ask that worker
        (None: we own it, attest here)."""
        owner = self.coord.owner(key)
        if owner is None or owner == self.coord.member_id:
            return None
        LOG.debug("Forwarding attest_host %s to its owner %s", key, owner)
        return self.dcs_api.attest_host(*key, server=owner)

    def take(self, key) -> bool:
        """Own ``key`` now if the ring gives it to us (claiming it)."""
        if not self.coord.owns(key):
            return False
        if not self.coord.enabled:
            return True
        with self._lock:
            if key in self._claimed:
                return True
        got = ownership.nodes_claim(
            self.ctx, [key], self.coord.member_id, self.coord.members()
        )
        with self._lock:
            self._claimed |= got
            if key not in got:
                self._pending.add(key)
        return key in got

    # -- rebalancing ----------------------------------------------------------

    def start(self) -> None:
        """Arm this worker's share (claiming it) and keep it up to date."""
        if not self.coord.enabled:
            for key in attestation_db.registered_nodes(self.ctx):
                self.wheel.add(key)
            return
        ownership.configure(self.coord.member_id)
        self.rebalance(initial=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop rebalancing; release every node owned (after the wheel
        stopped, so no attestation of ours is still running)."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()
        if self.coord.enabled:
            with self._lock:
                owned, self._claimed = self._claimed, set()
            ownership.nodes_release(self.ctx, owned, self.coord.member_id)
            LOG.info("Released %d node(s)", len(owned))

    def _run(self) -> None:
        rescan = max(
            self.conf.dcs.attestation_interval / 2,
            self.conf.coordination.heartbeat_interval,
        )
        waited = 0.0
        step = self.conf.coordination.heartbeat_interval
        while not self._stopping.is_set():
            woken = self._wake.wait(step)
            if self._stopping.is_set():
                return
            self._wake.clear()
            waited += step
            try:
                if woken or waited >= rescan:
                    waited = 0.0
                    self.rebalance()
                elif self._pending:
                    self._claim(set(self._pending))
            except exception.ACaaSException as exc:
                LOG.warning("Rebalance failed, will retry: %s", exc)

    def rebalance(self, initial=False) -> None:
        """Make the timers match this worker's share of the nodes."""
        registered = attestation_db.registered_nodes(self.ctx)
        wanted = {key for key in registered if self.coord.owns(key)}
        with self._lock:
            lost = self._claimed - wanted
            self._claimed -= lost
            self._pending = wanted - self._claimed
        for key in lost:
            self.wheel.remove(key)
        if lost:
            released = ownership.nodes_release(
                self.ctx, lost, self.coord.member_id
            )
            LOG.info("Rebalance: gave up %d node(s)", released)
        self._claim(set(self._pending), initial)
        with self._lock:
            unarmed = [k for k in self._claimed if k not in self.wheel]
        for key in unarmed:
            self.wheel.add(key, None if initial else 0.0)

    def _claim(self, keys, initial=False) -> None:
        if not keys:
            return
        got = ownership.nodes_claim(
            self.ctx, keys, self.coord.member_id, self.coord.members()
        )
        with self._lock:
            # Keys the ring no longer gives us meanwhile are not armed.
            got = {k for k in got if self.coord.owns(k)}
            self._claimed |= got
            self._pending -= got
        for key in got:
            self.wheel.add(key, None if initial else 0.0)
        if got and not initial:
            LOG.info("Rebalance: took over %d node(s)", len(got))
