"""Which tracked instances must move, and where to: the compliance plan.

The chapter requires the user's requirements to be *continually
maintained*: a server whose host no longer satisfies them (the node turned
untrusted, its attestation went stale, it left the required location or
white-list, its domain entered maintenance) is moved, in order of
preference, to

1. a healthy host of the same physical domain,
2. the domain's collaborating (backup) domains by priority, local ones
   before emergency ones,
3. emergency domains only if the instance allows them (the matcher refuses
   them otherwise, as the filter does).

:func:`sweep` re-checks every tracked instance against its stored
requirements; :func:`plan` then chooses a destination per instance that
satisfies them, fits the host's free resources and keeps isolation with the
instances already there and those planned to arrive.  An instance with no
qualifying destination is *stuck*, with the reason of every tier.

Both work on one :class:`~acaas_nova.scheduler.topology.Topology` and
compile one :class:`~acaas_nova.scheduler.matching.RequestMatcher` per
distinct requirement set, so the per-instance work is a few dictionary
look-ups.  Pure: no nova, oslo or SQLAlchemy.
"""

import dataclasses
import heapq
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence

from acaas_nova.compliance import occupancy as occ_mod
from acaas_nova.scheduler import matching
from acaas_nova.scheduler import requirements as reqs_mod
from acaas_nova.scheduler import topology as topo_mod

#: Tier labels, in order of preference.
TIER_SAME_DOMAIN = "same-domain"
TIER_BACKUP = "backup"
TIER_EMERGENCY = "emergency"


@dataclasses.dataclass(frozen=True)
class Tracked:
    """One running instance as compliance knows it."""

    uuid: str
    host: topo_mod.NodeKey
    requester: matching.Requester
    requirements: reqs_mod.Requirements
    #: What the instance occupies, e.g. (vcpus, memory_mb, disk_gb).
    size: tuple[int, ...] = (1,)
    exclude_users: frozenset[str] = frozenset()
    exclude_projects: frozenset[str] = frozenset()


@dataclasses.dataclass(frozen=True)
class Violation:
    """An instance whose current host no longer satisfies it."""

    instance: Tracked
    reason: str


@dataclasses.dataclass(frozen=True)
class Move:
    instance_uuid: str
    source: topo_mod.NodeKey
    destination: topo_mod.NodeKey
    #: ``same-domain``, ``backup`` or ``emergency``.
    tier: str
    domain: str
    #: Why the instance leaves its host.
    reason: str


@dataclasses.dataclass(frozen=True)
class Stuck:
    instance_uuid: str
    source: topo_mod.NodeKey
    reason: str
    #: Per tried domain, why no host of it qualified.
    tried: tuple[tuple[str, str], ...]


@dataclasses.dataclass(frozen=True)
class Plan:
    moves: tuple[Move, ...]
    stuck: tuple[Stuck, ...]


class _Matchers:
    """One compiled matcher per distinct requirement set."""

    def __init__(self, topology, policy, now) -> None:
        self._topology = topology
        self._policy = policy
        self._now = now
        self._cache: dict[reqs_mod.Requirements, matching.RequestMatcher] = {}

    def get(self, reqs: reqs_mod.Requirements) -> matching.RequestMatcher:
        matcher = self._cache.get(reqs)
        if matcher is None:
            matcher = matching.RequestMatcher(
                reqs, self._topology, self._policy, self._now
            )
            self._cache[reqs] = matcher
        return matcher


def sweep(
    tracked: Iterable[Tracked],
    topology: topo_mod.Topology,
    policy: matching.Policy,
    now: float,
    maintenance: frozenset[str] = frozenset(),
) -> list[Violation]:
    """Every tracked instance whose host fails its requirements."""
    matchers = _Matchers(topology, policy, now)
    nodes = topology.nodes
    found = []
    # Requirement sets are shared by many instances: look each matcher up
    # by identity (hashing a set costs more than the check itself).
    by_id: dict = {}
    for inst in tracked:
        reqs = inst.requirements
        entry = by_id.get(id(reqs))
        if entry is None:
            matcher = matchers.get(reqs)
            entry = by_id[id(reqs)] = (matcher, matcher.expiry, reqs)
        matcher, expiry, _keep = entry
        deadline = expiry.get(inst.host)
        if deadline is not None and now <= deadline:  # matcher.passes()
            node = nodes[inst.host]
            if node.domain not in maintenance:
                continue
            reason = "domain %s is in maintenance" % node.domain
        else:
            reason = matcher.node_reason(inst.host) or "attestation expired"
        found.append(Violation(inst, reason))
    return found


def destination_domains(
    topology: topo_mod.Topology, domain: str | None
) -> list[tuple[str, str]]:
    """(tier, domain) in order of preference for a server of ``domain``."""
    if domain is None or domain not in topology.domains:
        return []
    order = [(TIER_SAME_DOMAIN, domain)]
    backups = [
        b for b in topology.domains[domain].backups if b in topology.domains
    ]
    order += [
        (TIER_BACKUP, b) for b in backups if not topology.domains[b].emergency
    ]
    order += [
        (TIER_EMERGENCY, b) for b in backups if topology.domains[b].emergency
    ]
    return order


def plan(
    violations: Sequence[Violation],
    topology: topo_mod.Topology,
    policy: matching.Policy,
    now: float,
    occupancy: occ_mod.Occupancy,
    maintenance: frozenset[str] = frozenset(),
    source_domains: Mapping[str, str] | None = None,
) -> Plan:
    """Choose a destination for every violation, or say why there is none.

    ``occupancy`` is updated as moves are planned (capacity taken, the
    moving instance's owner recorded on its destination), so later choices
    in the same plan see the earlier ones.  ``source_domains`` maps an
    instance uuid to the domain whose preference order applies when its
    host has no domain of its own any more (e.g. the node was removed).
    """
    matchers = _Matchers(topology, policy, now)
    candidates = _Candidates(topology, occupancy)
    moves, stuck = [], []
    # Larger instances first: they are the hardest to fit.
    ordered = sorted(violations, key=lambda v: v.instance.size, reverse=True)
    for violation in ordered:
        inst = violation.instance
        node = topology.nodes.get(inst.host)
        domain = node.domain if node is not None else None
        if domain is None and source_domains:
            domain = source_domains.get(inst.uuid)
        matcher = matchers.get(inst.requirements)
        tried = []
        chosen = None
        for tier, dom in destination_domains(topology, domain):
            if dom in maintenance:
                tried.append((dom, "in maintenance"))
                continue
            host, why = candidates.pick(matcher, dom, inst)
            if host is not None:
                chosen = (tier, dom, host)
                break
            tried.append((dom, why))
        if chosen is None:
            stuck.append(
                Stuck(
                    inst.uuid,
                    inst.host,
                    violation.reason,
                    tuple(tried) or (("-", "the host has no domain"),),
                )
            )
            continue
        tier, dom, host = chosen
        candidates.take(inst, host)
        moves.append(
            Move(inst.uuid, inst.host, host, tier, dom, violation.reason)
        )
    return Plan(tuple(moves), tuple(stuck))


class _Candidates:
    """Per (static verdicts, domain): the qualifying hosts, most room first.

    Each list is a heap of ``(-room, position, host)`` built once (the
    position in the domain's sorted member list breaks ties as the host
    name would, with an integer comparison); rooms change as moves are
    planned, so a stale entry is refreshed when it surfaces.
    Requirement sets that differ only in isolation share their static
    verdicts (the matcher's ``expiry``, cached on the topology), and so
    share a heap: which hosts pass does not depend on isolation, which
    :meth:`pick` checks per instance.
    """

    def __init__(self, topology, occupancy: occ_mod.Occupancy) -> None:
        self._by_domain = topology.members
        self._occupancy = occupancy
        self._heaps: dict = {}
        self._failing: dict = {}

    def _heap(self, matcher, domain):
        key = (id(matcher.expiry), matcher.now, domain)
        heap = self._heaps.get(key)
        if heap is None:
            # The test of matcher.passes(), inlined.
            heap, failing = self._occupancy.rooms(
                self._by_domain.get(domain, ()), matcher.expiry, matcher.now
            )
            heapq.heapify(heap)
            self._heaps[key] = heap
            self._failing[key] = failing
        return heap, self._failing[key]

    @staticmethod
    def _example(matcher, failing, source) -> str | None:
        """Why the first failing host other than ``source`` fails."""
        for host in failing:
            if host != source:
                why = matcher.node_reason(host) or "attestation expired"
                return "%s: %s" % (host[0], why)
        return None

    def pick(self, matcher, domain, inst):
        """The qualifying host with the most room, or (None, why)."""
        heap, failing = self._heap(matcher, domain)
        occupancy = self._occupancy
        skipped = []
        found = None
        counts = {"capacity": 0, "isolation": 0}
        while heap:
            entry = heapq.heappop(heap)
            neg_room, position, host = entry
            room = occupancy.room(host)
            if room is None or -neg_room != room:
                if room is not None:
                    heapq.heappush(heap, (-room, position, host))
                continue
            skipped.append(entry)
            if host == inst.host:
                continue
            if occupancy.room_after(host, inst.size) is None:
                counts["capacity"] += 1
                if len(inst.size) == 1:
                    # Ordered by room: no later host has more of it.
                    counts["capacity"] += len(heap)
                    break
                continue
            if occupancy.isolation_reason(host, inst) is not None:
                counts["isolation"] += 1
                continue
            found = host
            break
        for item in skipped:
            heapq.heappush(heap, item)
        if found is not None:
            return found, None
        counts["requirements"] = len(failing)
        if not any(counts.values()):
            return None, "no other host"
        why = "no host qualifies (%s)" % ", ".join(
            "%d fail %s" % (n, what) for what, n in sorted(counts.items()) if n
        )
        example = self._example(matcher, failing, inst.host)
        if example:
            why += "; e.g. %s" % example
        return None, why

    def take(self, inst, host) -> None:
        self._occupancy.move(inst, host)
