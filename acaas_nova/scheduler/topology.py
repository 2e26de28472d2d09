"""A read-only view of the infrastructure, shaped for fast per-host checks.

:class:`Topology` is built once from a ``records.SchedulingSnapshot`` each
time the snapshot is refreshed; the filter and weigher then answer every host
with dictionary look-ups.  Pure: standard library and our records only.
"""

import dataclasses
import datetime

from acaas_nova.db import records
from acaas_nova.scheduler import constraints as constraints_mod

NodeKey = tuple[str, str]


@dataclasses.dataclass(frozen=True)
class NodeFacts:
    """What the scheduler knows about one compute node."""

    ident: str
    status: str
    #: POSIX time of the last successful attestation, or None.
    attested_at: float | None
    whitelists: frozenset[str]
    domain: str | None
    #: Domain capabilities overlaid with the node's own properties.
    capabilities: dict[str, str]
    #: Why its stored record is unusable (the node is then rejected).
    defect: str | None = None


@dataclasses.dataclass(frozen=True)
class DomainFacts:
    name: str
    location: str
    emergency: bool
    capabilities: dict[str, str]
    #: Backup domain names in priority order (most preferred first).
    backups: tuple[str, ...]
    #: In a maintenance window (``acaas-manage domain maintenance``).
    maintenance: bool = False
    #: DC-S's stored DCoT and CDCoT (None: undefined).
    dcot: str | None = None
    cdcot: str | None = None
    #: White-lists every member is trusted under: the trust class of a
    #: defined DCoT (empty when it is undefined).
    trusted_under: frozenset[str] = frozenset()
    #: The same across the domain and its backups (a defined CDCoT).
    backup_trusted_under: frozenset[str] = frozenset()


def _epoch(when: datetime.datetime | None) -> float | None:
    if when is None:
        return None
    if when.tzinfo is None:
        # The DB stores naive UTC timestamps.
        when = when.replace(tzinfo=datetime.UTC)
    return when.timestamp()


class Topology:
    """Nodes, domains, locations and distances of one snapshot."""

    def __init__(self, snapshot: records.SchedulingSnapshot) -> None:
        self.taken_at = snapshot.taken_at
        self.locations = frozenset(snapshot.locations)
        self.distances = dict(snapshot.distances)
        #: Isolation look-up over the snapshot's constraining records.
        self.constraints = constraints_mod.ConstraintIndex(
            snapshot.instance_constraints
        )
        self.domains: dict[str, DomainFacts] = {}
        for name, dom in snapshot.domains.items():
            backups = tuple(
                b.backup for b in sorted(dom.backups, key=lambda b: b.priority)
            )
            self.domains[name] = DomainFacts(
                name=name,
                location=dom.location,
                emergency=dom.source == records.SOURCE_EMERGENCY,
                capabilities=dict(dom.capabilities),
                backups=backups,
                maintenance=dom.maintenance,
                dcot=dom.dcot,
                cdcot=dom.cdcot,
            )
        self.nodes: dict[NodeKey, NodeFacts] = {}
        #: Per-requirement-set verdicts (filled by matching.RequestMatcher).
        self.verdicts: dict = {}
        #: Service host name -> domain of its first node (for move sources).
        self.host_domains: dict[str, str] = {}
        #: Domain name -> its member nodes, sorted.
        self.members: dict[str, list[NodeKey]] = {}
        for key, node in snapshot.nodes.items():
            dom = self.domains.get(node.domain) if node.domain else None
            caps = dict(dom.capabilities) if dom else {}
            caps.update(node.properties)
            self.nodes[key] = NodeFacts(
                ident=node.ident,
                status=node.status,
                attested_at=_epoch(node.last_attested_at),
                whitelists=frozenset(node.whitelists),
                domain=node.domain,
                capabilities=caps,
                defect=node.defect,
            )
            if node.domain:
                self.host_domains.setdefault(key[0], node.domain)
                self.members.setdefault(node.domain, []).append(key)
        for keys in self.members.values():
            keys.sort()
        self._chain_classes()

    def _chain_classes(self) -> None:
        """Fill each domain's ``trusted_under`` and ``backup_trusted_under``.

        A white-list is in the DCoT's class when DC-S stored a defined DCoT
        and every member in this snapshot is trusted (record readable) and
        satisfies it; both must hold, so a DCoT DC-S has not yet recomputed
        after a member's verdict never vouches for that member.
        """
        common = {}
        for name, dom in self.domains.items():
            wls = None
            if dom.dcot is not None:
                for key in self.members.get(name, ()):
                    node = self.nodes[key]
                    if node.defect or node.status != records.TRUST_TRUSTED:
                        wls = frozenset()
                        break
                    wls = (
                        node.whitelists
                        if wls is None
                        else wls & node.whitelists
                    )
            common[name] = wls or frozenset()
        for name, dom in self.domains.items():
            backup = frozenset()
            if dom.cdcot is not None and all(b in common for b in dom.backups):
                backup = common[name]
                for b in dom.backups:
                    backup &= common[b]
            self.domains[name] = dataclasses.replace(
                dom, trusted_under=common[name], backup_trusted_under=backup
            )

    def distance(self, a: str, b: str) -> int | None:
        """Distance between two locations; 0 to itself, None if unknown."""
        if a == b:
            return 0
        return self.distances.get((a, b))

    def distance_to_any(self, location: str, targets: frozenset[str]):
        """Smallest known distance from ``location`` to one of ``targets``."""
        best = None
        for target in targets:
            d = self.distance(location, target)
            if d is not None and (best is None or d < best):
                best = d
        return best

    def domain_of(self, key: NodeKey) -> DomainFacts | None:
        node = self.nodes.get(key)
        if node is None or node.domain is None:
            return None
        return self.domains.get(node.domain)


def empty_topology() -> Topology:
    """A topology with nothing in it (every host is then rejected)."""
    return Topology(
        records.SchedulingSnapshot(
            nodes={},
            domains={},
            locations=frozenset(),
            distances={},
            taken_at=datetime.datetime.now(datetime.UTC),
        )
    )
