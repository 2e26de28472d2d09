"""Run continuous compliance inside acaas-dcs, on one worker at a time.

With ``[compliance] enabled`` every DC-S worker starts a
:class:`ComplianceLoop`, but only the leader of the ``compliance`` role
(:meth:`~dc_agents.dcs.coordination.Coordination.leads`; the only worker
when there is no coordination backend) acts.  Each round the leader:

* publishes trust to placement (``[placement] publish_traits``): the traits
  of every compute node whose trust record changed since the last round
  (all of them on the first round after it became leader), so a lost trust
  takes its trait away within one attestation interval;
* runs a compliance sweep when something a server's requirements depend on
  changed since the last round, and otherwise every ``[compliance]
  sweep_interval`` seconds.  Changes are found by comparing what is
  stored, never by waiting for an event: a node's trust status, satisfied
  white-lists or domain, a domain's DCoT or CDCoT, and the operator-change
  marker (:mod:`acaas_nova.db.changes`) that acaas-manage's writes to
  domains, hosts, properties, distances, backups, maintenance windows and
  white-lists update in their own transaction.
  The marker is also written by any worker that receives nova's
  notification of a server arriving on a host that is not trusted
  (dc_agents.compliance.notifications).

Rounds run every ``[dcs] attestation_interval`` seconds.  Errors of a
round are logged and the next round tries again; nothing stops the loop
but :meth:`stop`.
"""

import logging
import threading
import time

from acaas_nova import exception
from acaas_nova.db import changes as changes_db
from acaas_nova.db import snapshot as snapshot_db
from dc_agents.compliance import errors

LOG = logging.getLogger(__name__)
ROLE = "compliance"


class ComplianceLoop:
    def __init__(
        self, conf, coord, manager, traits, context, listener=None
    ) -> None:
        self.conf = conf
        #: nova's notifications (dc_agents.compliance.notifications).
        self.listener = listener
        self.coord = coord
        self.manager = manager
        self.traits = traits
        self.ctx = context
        self._published: dict = {}
        self._facts: dict = {}
        self._last_sweep = None
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="acaas-compliance", daemon=True
        )

    def start(self) -> None:
        if self.listener is not None:
            self.listener.start()
        self._thread.start()

    def stop(self) -> None:
        if self.listener is not None:
            self.listener.stop()
            self.listener.wait()
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        interval = self.conf.dcs.attestation_interval
        while not self._stop.is_set():
            try:
                self.round()
            except exception.ACaaSException as exc:
                LOG.error("Compliance round failed: %s", exc)
            except Exception:  # the loop must outlive any one round
                LOG.exception("Compliance round failed unexpectedly")
            self._stop.wait(interval)

    def round(self, now=None) -> bool:
        """One round; False when this worker is not the leader."""
        if not self.coord.leads(ROLE):
            self._published.clear()
            self._facts = {}
            self._last_sweep = None
            return False
        now = time.monotonic() if now is None else now
        snap = snapshot_db.snapshot_get(self.ctx)
        if self.traits is not None and self.conf.placement.publish_traits:
            self.publish(snap)
        # A trust or operator change since the last round triggers a
        # sweep now; the periodic one catches the rest.
        facts = self.facts(snap)
        changed = facts != self._facts
        if changed and self._facts:
            LOG.info(
                "Compliance: %s changed; sweeping now",
                _what(self._facts, facts),
            )
        self._facts = facts
        due = self.conf.compliance.sweep_interval
        if (
            changed
            or self._last_sweep is None
            or now - self._last_sweep >= due
        ):
            self._last_sweep = now
            report = self.manager.sweep()
            LOG.info(
                "Compliance sweep: %d bad host(s), %d fenced, %d unfenced, "
                "%d move(s) started%s",
                len(report.bad_hosts),
                len(report.fenced),
                len(report.unfenced),
                report.started,
                ", breaker open" if report.breaker_open else "",
            )
        return True

    def facts(self, snap) -> dict:
        """What a sweep's verdicts depend on, beyond the clock."""
        facts = {
            ("node", key): (node.status, tuple(node.whitelists), node.domain)
            for key, node in snap.nodes.items()
        }
        for name, dom in snap.domains.items():
            facts[("domain", name)] = (dom.dcot, dom.cdcot)
        last = changes_db.last(self.ctx)
        facts[("operator", None)] = last[0] if last else None
        return facts

    def publish(self, snap) -> int:
        """Sync the traits of nodes whose trust changed; returns how many."""
        written = 0
        for (_host, hv), node in snap.nodes.items():
            dom = snap.domains.get(node.domain) if node.domain else None
            wanted = (
                node.status,
                tuple(sorted(node.whitelists)),
                node.domain,
                dom.location if dom else None,
            )
            if self._published.get(hv) == wanted:
                continue
            try:
                self.traits.publish(hv, *wanted)
            except (errors.ClientError, exception.NotFound) as exc:
                LOG.warning("Traits of %s not published: %s", hv, exc)
                continue
            self._published[hv] = wanted
            written += 1
        return written


def _what(before: dict, after: dict) -> str:
    """Name one changed fact, for the log line."""
    for key in sorted(before.keys() | after.keys(), key=repr):
        if before.get(key) != after.get(key):
            kind, name = key
            if kind == "operator":
                return "an operator setting"
            if kind == "node":
                return "the trust of node %s" % (name[0],)
            return "the chains of domain %s" % name
    return "nothing"
