"""Preference order among hosts that passed the filter.

New servers: hosts in a requested location first, then by increasing
distance from the nearest requested location.  Move operations (cold or live
migration, evacuation): the source host's physical domain first, then its
collaborating (backup) domains in priority order, then the rest; distance
breaks ties within a tier.  Scores are computed once per domain per request;
a host's weight is one dictionary look-up.  Pure module.
"""

from acaas_nova.scheduler import topology as topo_mod


class Preference:
    """Per-request domain scores; higher is better."""

    def __init__(
        self,
        topology: topo_mod.Topology,
        locations: frozenset[str] = frozenset(),
        source_domain: str | None = None,
    ) -> None:
        self.topology = topology
        self.active = bool(locations) or source_domain is not None
        self._scores: dict[str, float] = {}
        self._unknown = 0.0
        if not self.active:
            return
        far = max(topology.distances.values(), default=0) + 1
        tiers = {}
        if source_domain is not None:
            order = (source_domain,) + self._backups(source_domain)
            tiers = {name: i for i, name in enumerate(order)}
        rest = len(tiers)
        # Just below the worst real score, so that normalisation across
        # hosts keeps the differences between known hosts visible.
        self._unknown = -float((rest + 1) * (far + 1) + far + 1)
        for name, dom in topology.domains.items():
            dist = far
            if locations:
                found = topology.distance_to_any(dom.location, locations)
                dist = far if found is None else found
            elif source_domain is not None:
                src = topology.domains.get(source_domain)
                if src is not None:
                    found = topology.distance(dom.location, src.location)
                    dist = far if found is None else found
            tier = tiers.get(name, rest)
            self._scores[name] = -float(tier * (far + 1) + dist)

    def _backups(self, domain: str) -> tuple[str, ...]:
        dom = self.topology.domains.get(domain)
        return dom.backups if dom else ()

    def score(self, key: topo_mod.NodeKey) -> float:
        """Raw weight of a compute node (nova normalises across hosts)."""
        if not self.active:
            return 0.0
        node = self.topology.nodes.get(key)
        if node is None or node.domain is None:
            return self._unknown
        return self._scores.get(node.domain, self._unknown)
