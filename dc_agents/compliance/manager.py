"""The compliance manager: keep every running server's requirements true.

One :meth:`ComplianceManager.sweep`:

1. reads the scheduling snapshot (trust, domains, locations) and the
   domains in maintenance;
2. fences hosts that are untrusted, or unknown for longer than
   ``[compliance] unknown_grace``, and unfences the hosts it fenced that are
   trusted again;
3. opens the breaker when more than ``max_untrusted_fraction`` of the hosts
   turned bad since the last sweep: fencing goes on, moves stop until
   ``acaas-manage compliance resume``;
4. reconciles the servers nova reports with the requirements the filter
   stored for them (servers created before acaas-nova was enabled are
   tracked with no requirements of their own: trust still applies),
   re-checks every one (:func:`acaas_nova.compliance.planner.sweep`) and
   plans a destination for each that must move
   (:func:`acaas_nova.compliance.planner.plan`);
5. records each move (or why there is none) as a durable action and lets
   :class:`~dc_agents.compliance.executor.Executor` carry them out.

With ``dry_run`` it only returns the plan.
"""

import dataclasses
import logging
import time

from acaas_nova import conf as acaas_conf
from acaas_nova import exception
from acaas_nova.compliance import occupancy as occ_mod
from acaas_nova.compliance import planner
from acaas_nova.compliance import stored
from acaas_nova.db import compliance as compliance_db
from acaas_nova.db import records
from acaas_nova.db import snapshot as snapshot_db
from acaas_nova.scheduler import matching
from acaas_nova.scheduler import requirements as reqs_mod
from acaas_nova.scheduler import topology as topo_mod
from dc_agents.compliance import cloud as cloud_mod
from dc_agents.compliance import events
from dc_agents.compliance import executor as executor_mod
from dc_agents.dcs import eventlog

LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class SweepReport:
    bad_hosts: list[str]
    fenced: list[str]
    unfenced: list[str]
    breaker_open: bool
    plan: planner.Plan | None
    started: int = 0


class ComplianceManager:
    def __init__(self, conf, cloud: cloud_mod.Cloud, context) -> None:
        self.conf = conf
        acaas_conf.register_client_opts(conf)
        self.opts = conf.compliance
        self.cloud = cloud
        self.ctx = context
        self.executor = executor_mod.Executor(conf, cloud, context)
        self.policy = matching.Policy(
            require_attestation=True,
            attestation_ttl=conf.acaas.attestation_ttl,
        )

    # -- hosts -------------------------------------------------------------

    def _bad_hosts(self, topology, now) -> tuple[set[str], set[str]]:
        """(bad service hosts, hosts unknown but within their grace)."""
        bad, grace = set(), set()
        for (host, _hv), node in topology.nodes.items():
            if node.status == records.TRUST_UNTRUSTED:
                bad.add(host)
            elif node.status == records.TRUST_UNKNOWN:
                since = node.attested_at
                if (
                    since is not None
                    and now - since <= self.opts.unknown_grace
                ):
                    grace.add(host)
                else:
                    bad.add(host)
        return bad, grace - bad

    def _fence(self, hosts, trusted, fenced_before):
        fenced, unfenced = [], []
        for host in sorted(hosts - set(fenced_before)):
            action, created = compliance_db.action_open(
                self.ctx, "fence", host, "host %s is not trusted" % host
            )
            event = eventlog.record(
                self.ctx,
                host,
                events.FENCED,
                "host %s is not trusted: disabling its nova-compute service "
                "(action %d)" % (host, action.id),
            )
            event_ref = str(event) if event is not None else "a%d" % action.id
            try:
                self.cloud.fence(host, event_ref)
            except cloud_mod.CloudError as exc:
                eventlog.record(
                    self.ctx, host, events.FENCE_FAILED, exc.message
                )
                continue
            compliance_db.action_update(self.ctx, action.id, "done")
            fenced.append(host)
        for host in sorted(set(fenced_before) & trusted):
            action, _ = compliance_db.action_open(
                self.ctx, "unfence", host, "host %s is trusted again" % host
            )
            try:
                ours = self.cloud.unfence(host)
            except cloud_mod.CloudError as exc:
                eventlog.record(
                    self.ctx, host, events.FENCE_FAILED, exc.message
                )
                continue
            compliance_db.action_update(
                self.ctx,
                action.id,
                "done",
                error=None if ours else "left alone: disabled by an operator",
            )
            eventlog.record(
                self.ctx,
                host,
                events.UNFENCED,
                "nova-compute on %s %s"
                % (host, "enabled" if ours else "left disabled (operator)"),
            )
            unfenced.append(host)
        return fenced, unfenced

    def _breaker(self, newly_bad, total) -> bool:
        if compliance_db.breaker_open(self.ctx):
            return True
        if total and len(newly_bad) / total > self.opts.max_untrusted_fraction:
            why = "%d of %d hosts turned untrusted at once (limit %.0f%%)" % (
                len(newly_bad),
                total,
                100 * self.opts.max_untrusted_fraction,
            )
            compliance_db.flag_set(
                self.ctx,
                compliance_db.BREAKER,
                compliance_db.BREAKER_OPEN,
                why,
            )
            eventlog.record(
                self.ctx,
                "compliance",
                events.BREAKER_OPEN,
                why + ": hosts fenced, no server moved until "
                "'acaas-manage compliance resume'",
            )
            return True
        return False

    # -- servers -----------------------------------------------------------

    def _tracked(self, servers) -> list[planner.Tracked]:
        rows = compliance_db.tracked_instances(self.ctx)
        tracked = []
        for server in servers:
            if server.key is None or server.busy:
                continue
            row = rows.get(server.uuid)
            try:
                reqs = stored.loads(row[2]) if row else reqs_mod.EMPTY
            except exception.Invalid as exc:
                eventlog.record(
                    self.ctx, server.uuid, events.BAD_REQUIREMENTS, exc.message
                )
                reqs = reqs_mod.EMPTY
            tracked.append(
                planner.Tracked(
                    uuid=server.uuid,
                    host=server.key,
                    requester=matching.Requester(
                        server.user_id, server.project_id, server.uuid
                    ),
                    requirements=reqs,
                    size=server.size,
                )
            )
        return tracked

    def _record_plan(self, plan) -> None:
        for move in plan.moves:
            action, created = compliance_db.action_open(
                self.ctx,
                "migrate",
                move.instance_uuid,
                move.reason,
                source_host=move.source[0],
                destination_host=move.destination[0],
                tier=move.tier,
            )
            if not created and action.state == "pending":
                if action.destination_host != move.destination[0]:
                    # Re-planned: the earlier destination did not work out.
                    compliance_db.action_update(
                        self.ctx,
                        action.id,
                        "pending",
                        destination_host=move.destination[0],
                    )
            if created:
                eventlog.record(
                    self.ctx,
                    move.instance_uuid,
                    events.MOVE_PLANNED,
                    "server %s: %s; moving from %s to %s (%s domain %s)"
                    % (
                        move.instance_uuid,
                        move.reason,
                        move.source[0],
                        move.destination[0],
                        move.tier,
                        move.domain,
                    ),
                )
        before = compliance_db.latest_actions(
            self.ctx, "migrate", [s.instance_uuid for s in plan.stuck]
        )
        for stuck in plan.stuck:
            why = "%s; no destination: %s" % (
                stuck.reason,
                "; ".join("%s: %s" % pair for pair in stuck.tried),
            )
            last = before.get(stuck.instance_uuid)
            if last is not None and (last.state, last.error) == ("stuck", why):
                # Still stuck for the same reason: reported already (one
                # row and one event, not one per sweep).
                continue
            action, _ = compliance_db.action_open(
                self.ctx,
                "migrate",
                stuck.instance_uuid,
                stuck.reason,
                source_host=stuck.source[0],
            )
            compliance_db.action_update(
                self.ctx, action.id, "stuck", error=why
            )
            eventlog.record(self.ctx, stuck.instance_uuid, events.STUCK, why)

    def sweep(self, dry_run: bool = False) -> SweepReport:
        now = time.time()
        topology = topo_mod.Topology(snapshot_db.snapshot_get(self.ctx))
        maintenance = frozenset(compliance_db.maintenance_domains(self.ctx))
        bad, grace = self._bad_hosts(topology, now)
        hosts = {host for host, _ in topology.nodes}
        fenced_before = compliance_db.fenced_hosts(self.ctx)
        if dry_run:
            fenced, unfenced, breaker = (
                [],
                [],
                compliance_db.breaker_open(self.ctx),
            )
        else:
            breaker = self._breaker(bad - set(fenced_before), len(hosts))
            fenced, unfenced = self._fence(
                bad, hosts - bad - grace, fenced_before
            )
        if breaker and not dry_run:
            self.executor.reconcile()
            return SweepReport(sorted(bad), fenced, unfenced, True, None)
        running = {
            a.subject
            for a in compliance_db.action_list(
                self.ctx, states=["running"], kind="migrate"
            )
        }
        servers = self.cloud.servers()
        tracked = self._tracked(servers)
        violations = [
            v
            for v in planner.sweep(
                tracked, topology, self.policy, now, maintenance
            )
            if v.instance.host[0] not in grace
            and v.instance.uuid not in running
        ]
        occupancy = occ_mod.Occupancy(tracked, self.cloud.free())
        plan = planner.plan(
            violations, topology, self.policy, now, occupancy, maintenance
        )
        report = SweepReport(sorted(bad), fenced, unfenced, breaker, plan)
        if dry_run:
            return report
        self._record_plan(plan)
        report.started = self.executor.advance()
        return report
