"""Decide whether one host satisfies one request: pass, or the reason not.

:class:`RequestMatcher` is compiled once per scheduling request from the
effective requirements, the topology, the attestation policy and the
isolation records; domain-level questions (location, distance, emergency,
domain capabilities) are answered once per domain here, so the per-host work
left is a few dictionary look-ups.  Every method returns ``None`` for pass or
a short human-readable reason.  Pure: no nova, oslo or SQLAlchemy.
"""

import dataclasses
from collections.abc import Collection
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from collections.abc import Set as AbstractSet

from acaas_nova.db import records
from acaas_nova.scheduler import chain_reasons
from acaas_nova.scheduler import requirements as reqs_mod
from acaas_nova.scheduler import topology as topo_mod

#: Static verdicts kept per topology (distinct requirement sets).
VERDICT_CACHE_SIZE = 256


@dataclasses.dataclass(frozen=True)
class Policy:
    """``[acaas]`` attestation settings, copied out of oslo.config."""

    require_attestation: bool = True
    attestation_ttl: float = 300.0


@dataclasses.dataclass(frozen=True)
class Requester:
    """Who is asking: the owner of the instance being scheduled."""

    user_id: str
    project_id: str
    instance_uuid: str | None = None


def lacking_needs(reqs: reqs_mod.Requirements) -> str | None:
    """What a request needs that a node with no ACaaS facts cannot offer.

    A node acaas-nova has no record of (or one in no physical domain) has
    no location, no white-list, no capability.  None: the request asks for
    none of those, so such a node can serve it when attestation is not
    required.  Isolation is judged from nova's instance list as on every
    other host.
    """
    needs = []
    if reqs.location_rules:
        needs.append("a location")
    if reqs.whitelists:
        needs.append("white-lists")
    if reqs.capabilities:
        needs.append("capabilities")
    if reqs.domain_trust or reqs.backup_trust:
        needs.append("a domain chain of trust")
    return " and ".join(needs) or None


def blocking_instances(
    constraints: Iterable[records.InstanceTrust], requester: Requester
) -> dict[str, str]:
    """Instances whose own isolation requirements exclude the requester.

    This is the symmetric half of isolation: once A excludes B (or A is
    exclusive), B's later servers must avoid A's hosts.
    """
    blockers = {}
    for rec in constraints:
        if rec.instance_uuid == requester.instance_uuid:
            continue
        if rec.defect:
            # Its wishes cannot be read: it excludes everyone (fail closed).
            why = "has an unreadable trust record (%s)" % rec.defect
        elif requester.user_id in rec.exclude_users:
            why = "excludes user %s" % requester.user_id
        elif requester.project_id in rec.exclude_projects:
            why = "excludes project %s" % requester.project_id
        elif rec.exclusive and rec.project_id != requester.project_id:
            why = "is exclusive to project %s" % rec.project_id
        else:
            continue
        blockers[rec.instance_uuid] = "instance %s on host %s" % (
            rec.instance_uuid,
            why,
        )
    return blockers


class RequestMatcher:
    """The per-request compiled form of the matching rules."""

    def __init__(
        self,
        reqs: reqs_mod.Requirements,
        topology: topo_mod.Topology,
        policy: Policy,
        now: float,
        requester: Requester | None = None,
        blockers: Mapping[str, str] | None = None,
        exclusive: Sequence[Mapping[str, str]] = (),
    ) -> None:
        """
        :param blockers: uuid -> reason of instances that exclude the
            requester (from :func:`blocking_instances`).
        :param exclusive: maps of uuid -> project of exclusive instances
            (the snapshot's and the scheduler's newer ones); an instance
            listed there blocks requesters of other projects.
        """
        self.reqs = reqs
        self.topology = topology
        self.policy = policy
        self.now = now
        self.cutoff = now - policy.attestation_ttl
        self.requester = requester
        self.blockers = dict(blockers or {})
        self._exclusive = [m for m in exclusive if m]
        self.wants_owners = bool(
            reqs.exclude_users or reqs.exclude_projects or reqs.exclusive
        )
        self.checks_occupants = (
            self.wants_owners or bool(self.blockers) or bool(self._exclusive)
        )
        lacking = lacking_needs(reqs)
        #: Hosts acaas-nova has no record of pass (attestation not
        #: required and the request needs nothing they lack).
        self.unrecorded_ok = not policy.require_attestation and not lacking
        if policy.require_attestation:
            self._unrecorded_reason = "no ACaaS record of this compute node"
        else:
            self._unrecorded_reason = (
                "no ACaaS record of this compute node, and the request "
                "needs %s" % lacking
            )
        self._lacking = lacking
        self._whitelists = reqs.whitelists
        self._capabilities = reqs.capabilities
        self._domain_reason = {
            name: self._judge_domain(dom)
            for name, dom in topology.domains.items()
        }
        self.expiry = self._static_expiry()

    def _static_expiry(self) -> dict[topo_mod.NodeKey, float]:
        """Node -> time until which it passes (every check but isolation).

        Everything except the attestation age is static for one snapshot
        and one requirement set, so it is judged once per snapshot and set
        and cached on the topology; per host only the deadline remains.
        """
        reqs = self.reqs
        key = (
            reqs.location_rules,
            reqs.whitelists,
            reqs.emergency_ok,
            reqs.capabilities,
            reqs.domain_trust,
            reqs.backup_trust,
            self.policy,
        )
        cache = self.topology.verdicts
        expiry = cache.get(key)
        if expiry is not None:
            return expiry
        ttl = self.policy.attestation_ttl
        expiry = {}
        for node_key, node in self.topology.nodes.items():
            if self._static_reason(node_key) is not None:
                continue
            if not self.policy.require_attestation:
                expiry[node_key] = float("inf")
            elif node.attested_at is not None:
                expiry[node_key] = node.attested_at + ttl
        if len(cache) >= VERDICT_CACHE_SIZE:
            cache.clear()
        cache[key] = expiry
        return expiry

    def passes(self, key: topo_mod.NodeKey) -> bool:
        """Fast form of ``node_reason(key) is None``."""
        deadline = self.expiry.get(key)
        return deadline is not None and self.now <= deadline

    def _judge_domain(self, dom: topo_mod.DomainFacts) -> str | None:
        if dom.maintenance:
            return "domain %s is in maintenance" % dom.name
        if dom.emergency and not self.reqs.emergency_ok:
            return "emergency domain %s not allowed" % dom.name
        for rule in self.reqs.location_rules:
            reason = self._judge_location(dom, rule)
            if reason:
                return reason
        if self.reqs.domain_trust:
            missing = self.reqs.domain_trust - dom.trusted_under
            if missing:
                return chain_reasons.dcot(self.topology, dom, missing)
        if self.reqs.backup_trust:
            missing = self.reqs.backup_trust - dom.backup_trusted_under
            if missing:
                return chain_reasons.cdcot(self.topology, dom, missing)
        return None

    def _judge_location(
        self, dom: topo_mod.DomainFacts, rule: reqs_mod.LocationRule
    ) -> str | None:
        if dom.location in rule.locations:
            return None
        wanted = ",".join(sorted(rule.locations))
        if rule.max_distance:
            d = self.topology.distance_to_any(dom.location, rule.locations)
            if d is not None and d <= rule.max_distance:
                return None
            return "location %s is %s from %s (max %d)" % (
                dom.location,
                "not known to be near" if d is None else "%d away" % d,
                wanted,
                rule.max_distance,
            )
        return "location %s not in %s" % (dom.location, wanted)

    def node_reason(self, key: topo_mod.NodeKey) -> str | None:
        """Trust, domain and capability checks for one compute node."""
        node = self.topology.nodes.get(key)
        if node is None:
            return None if self.unrecorded_ok else self._unrecorded_reason
        if self.policy.require_attestation and (
            node.status == records.TRUST_TRUSTED
            and (node.attested_at is None or node.attested_at < self.cutoff)
        ):
            return "attestation is stale (older than %ds)" % (
                self.policy.attestation_ttl
            )
        return self._static_reason(key)

    def _static_reason(self, key: topo_mod.NodeKey) -> str | None:
        node = self.topology.nodes.get(key)
        if node is None:
            return None if self.unrecorded_ok else self._unrecorded_reason
        if node.defect:
            return "ACaaS record is corrupt: %s" % node.defect
        if self.policy.require_attestation:
            if node.status != records.TRUST_TRUSTED:
                return "attestation status is %s" % node.status
            if node.attested_at is None:
                return "attestation is stale (never attested)"
        if node.domain is None:
            # Same rule as for unrecorded nodes: without attestation a
            # domain-less node serves requests that need no location.
            if (
                self.policy.require_attestation
                or self.reqs.location_rules
                or self.reqs.domain_trust
                or self.reqs.backup_trust
            ):
                return "node belongs to no physical domain"
        else:
            reason = self._domain_reason.get(node.domain, "unknown domain")
            if reason:
                return reason
        if self._whitelists and not self._whitelists <= node.whitelists:
            return "white-list %s not satisfied" % ",".join(
                sorted(self._whitelists - node.whitelists)
            )
        caps = node.capabilities
        for cap, value in self._capabilities:
            if caps.get(cap) != value:
                return "capability %s=%s not offered (has %s)" % (
                    cap,
                    value,
                    caps.get(cap, "none"),
                )
        return None

    def _exclusive_reason(self, uuids: Collection[str]) -> str | None:
        mine = self.requester.project_id if self.requester else None
        own = self.requester.instance_uuid if self.requester else None
        for owners in self._exclusive:
            # A C-level intersection: this runs for every candidate host.
            for uuid in sorted(owners.keys() & uuids):
                project = owners.get(uuid)
                if project is not None and project != mine and uuid != own:
                    return "instance %s on host is exclusive to project %s" % (
                        uuid,
                        project,
                    )
        return None

    def occupant_reason(
        self,
        uuids: Collection[str],
        users: AbstractSet[str],
        projects: AbstractSet[str],
        unknown: str | None = None,
    ) -> str | None:
        """Isolation checks against the instances already on a host.

        :param uuids: the host's instance uuids.
        :param users: owners (user ids) of those instances, the moving
            instance itself left out.
        :param projects: their project ids, likewise.
        :param unknown: the uuid of an instance whose owner is unknown.
        """
        if self.blockers:
            hit = self.blockers.keys() & uuids
            if hit:
                return self.blockers[min(hit)]
        if self._exclusive:
            reason = self._exclusive_reason(uuids)
            if reason:
                return reason
        if not self.wants_owners:
            return None
        if unknown is not None:
            return "owner of instance %s unknown" % unknown
        bad = users & self.reqs.exclude_users
        if bad:
            return "runs instances of excluded user %s" % min(bad)
        bad = projects & self.reqs.exclude_projects
        if bad:
            return "runs instances of excluded project %s" % min(bad)
        if self.reqs.exclusive and self.requester is not None:
            others = projects - {self.requester.project_id}
            if others:
                return "exclusive: runs instances of project %s" % min(others)
        return None
