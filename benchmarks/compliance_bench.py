"""Cost of the compliance sweep and plan at cloud scale.

Builds a synthetic cloud (pure records, no database, no nova): H compute
nodes in domains of 100 hosts over 10 locations, each domain with two
collaborating domains and every twentieth domain an emergency one; N
tracked instances spread over the hosts with a mix of requirement sets
(location, max_distance, white-list, excluded projects, exclusive
isolation, emergency allowed).  Then 1% of the hosts turn untrusted and it
times, best of R rounds:

* ``sweep``: re-check every tracked instance against its requirements
  (:func:`acaas_nova.compliance.planner.sweep`);
* ``plan``: choose a destination for every instance that must move
  (:func:`acaas_nova.compliance.planner.plan`, building the capacity and
  isolation bookkeeping of all N instances included);
* the baseline of the ratio, measured in the same run: the same sweep
  compiling one matcher per instance, as the filter does per scheduling
  request (timed on a sample and scaled to N).

Usage: ``python benchmarks/compliance_bench.py [--instances N] [--hosts H]``.
Goals: plan < 100 ms and sweep < 1 s for 100,000 instances on 10,000
hosts.  Last line::

    RESULT instances=<n> hosts=<h> plan_ms=<x> sweep_ms=<y>
"""

import argparse
import datetime
import random
import time

from acaas_nova.compliance import occupancy as occ_mod
from acaas_nova.compliance import planner
from acaas_nova.db import records
from acaas_nova.scheduler import matching
from acaas_nova.scheduler import requirements as reqs_mod
from acaas_nova.scheduler import topology as topo_mod

HOSTS_PER_DOMAIN = 100
LOCATIONS = ["loc-%d" % i for i in range(10)]
NOW = datetime.datetime(2026, 12, 3, 12, 0, 0)
NOW_TS = NOW.replace(tzinfo=datetime.UTC).timestamp()
POLICY = matching.Policy(require_attestation=True, attestation_ttl=300)
ROOM = 24


def _requirement_sets(rng):
    hints = [{}] * 8 + [
        {"acaas:location": "loc-1"},
        {"acaas:location": "loc-2", "acaas:max_distance": "10"},
        {"acaas:whitelist": "gold"},
        {"acaas:whitelist": "gold", "acaas:location": "loc-3"},
        {"acaas:allow_emergency": "true"},
        {"acaas:exclude_projects": "p-7,p-9"},
    ]
    sets = [reqs_mod.parse(h, "hint") if h else reqs_mod.EMPTY for h in hints]
    return sets, [reqs_mod.parse({"acaas:isolation": "exclusive"}, "hint")]


def build(n_instances, n_hosts, rng):
    domains, nodes = [], []
    n_domains = max(1, n_hosts // HOSTS_PER_DOMAIN)
    names = ["dom-%d" % d for d in range(n_domains)]
    for d, name in enumerate(names):
        backups = [
            records.Backup(name, names[(d + k) % n_domains], k)
            for k in (1, 2)
            if n_domains > k
        ]
        domains.append(
            records.Domain(
                name=name,
                location=LOCATIONS[d % len(LOCATIONS)],
                source="emergency" if d % 20 == 19 else "local",
                capabilities={},
                backups=tuple(backups),
            )
        )
    for h in range(n_hosts):
        host = "cn-%05d" % h
        nodes.append(
            records.Node(
                host=host,
                hypervisor_hostname=host,
                compute_node_uuid=None,
                domain=names[h % n_domains],
                properties={},
                status="trusted",
                whitelists=("gold",) if h % 3 else ("silver",),
                last_attested_at=NOW,
            )
        )
    distances = {}
    for i, a in enumerate(LOCATIONS):
        for j, b in enumerate(LOCATIONS):
            if a != b:
                distances[(a, b)] = 5 * abs(i - j)
    snap = records.SchedulingSnapshot(
        nodes={(n.host, n.hypervisor_hostname): n for n in nodes},
        domains={d.name: d for d in domains},
        locations=frozenset(LOCATIONS),
        distances=distances,
        taken_at=NOW,
    )
    sets, rare = _requirement_sets(rng)
    topology = topo_mod.Topology(snap)
    # Place every instance on a host that meets its requirements, as the
    # scheduler did when it booted.
    valid = {}
    for reqs in sets + rare:
        m = matching.RequestMatcher(reqs, topology, POLICY, NOW_TS)
        valid[reqs] = [k for k in sorted(snap.nodes) if m.passes(k)]
    tracked = []
    for i in range(n_instances):
        reqs = rare[0] if i % 500 == 0 else sets[i % len(sets)]
        hosts = valid[reqs]
        project = "p-%d" % rng.randrange(500)
        tracked.append(
            planner.Tracked(
                uuid="inst-%06d" % i,
                host=hosts[rng.randrange(len(hosts))],
                requester=matching.Requester(
                    "u-%d" % rng.randrange(2000), project, "inst-%06d" % i
                ),
                requirements=reqs,
                size=(1,),
            )
        )
    return snap, tracked


def untrust(snap, fraction, rng):
    keys = sorted(snap.nodes)
    bad = set(rng.sample(keys, max(1, int(len(keys) * fraction))))
    nodes = {}
    for key, node in snap.nodes.items():
        if key in bad:
            node = records.Node(**{**node.__dict__, "status": "untrusted"})
        nodes[key] = node
    return records.SchedulingSnapshot(
        nodes=nodes,
        domains=snap.domains,
        locations=snap.locations,
        distances=snap.distances,
        taken_at=snap.taken_at,
    ), bad


def _free(snap, tracked):
    used = {}
    for inst in tracked:
        used[inst.host] = used.get(inst.host, 0) + 1
    return {key: (ROOM - used.get(key, 0),) for key in snap.nodes}


def naive_sweep(tracked, topology):
    """One matcher per instance (the per-request cost of the filter)."""
    found = 0
    for inst in tracked:
        m = matching.RequestMatcher(
            inst.requirements, topology, POLICY, NOW_TS, inst.requester
        )
        if m.node_reason(inst.host) is not None:
            found += 1
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--untrusted", type=float, default=0.01)
    args = parser.parse_args()
    rng = random.Random(12)
    snap, tracked = build(args.instances, args.hosts, rng)
    snap, bad = untrust(snap, args.untrusted, rng)
    free = _free(snap, tracked)
    sweep_s, plan_s = [], []
    for _ in range(args.rounds):
        topology = topo_mod.Topology(snap)
        t0 = time.perf_counter()
        violations = planner.sweep(tracked, topology, POLICY, NOW_TS)
        t1 = time.perf_counter()
        occupancy = occ_mod.Occupancy(tracked, free)
        result = planner.plan(violations, topology, POLICY, NOW_TS, occupancy)
        t2 = time.perf_counter()
        sweep_s.append(t1 - t0)
        plan_s.append(t2 - t1)
    sample = tracked[: min(len(tracked), 5000)]
    topology = topo_mod.Topology(snap)
    t0 = time.perf_counter()
    naive_sweep(sample, topology)
    naive_s = (time.perf_counter() - t0) * len(tracked) / len(sample)
    sweep_ms, plan_ms = min(sweep_s) * 1e3, min(plan_s) * 1e3
    print(
        "cloud: %d hosts (%d untrusted), %d domains, %d tracked instances"
        % (args.hosts, len(bad), len(snap.domains), len(tracked))
    )
    print(
        "violations: %d, moves: %d (same-domain %d, backup %d, emergency %d),"
        " stuck: %d"
        % (
            len(violations),
            len(result.moves),
            sum(m.tier == planner.TIER_SAME_DOMAIN for m in result.moves),
            sum(m.tier == planner.TIER_BACKUP for m in result.moves),
            sum(m.tier == planner.TIER_EMERGENCY for m in result.moves),
            len(result.stuck),
        )
    )
    print(
        "sweep %.1f ms, plan %.1f ms (best of %d); baseline (one matcher per"
        " instance) sweep %.0f ms: ratio_vs_baseline=%.3f"
        % (
            sweep_ms,
            plan_ms,
            args.rounds,
            naive_s * 1e3,
            sweep_ms / 1e3 / naive_s,
        )
    )
    print(
        "RESULT instances=%d hosts=%d plan_ms=%.1f sweep_ms=%.1f"
        % (len(tracked), args.hosts, plan_ms, sweep_ms)
    )


if __name__ == "__main__":
    main()
