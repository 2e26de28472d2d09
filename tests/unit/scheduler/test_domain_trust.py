"""acaas:domain_trust / acaas:backup_trust: the domain chains in matching.

The cloud: uk-a (a1 gold+silver, a2 gold) backed up by uk-b; uk-b (b1
gold+silver) with no backups; fr-a (f1 gold) whose DCoT DC-S stored as
undefined.  Every node is trusted and fresh unless a test says otherwise.
"""

import dataclasses

import pytest

from acaas_nova import exception
from acaas_nova.compliance import occupancy as occ_mod
from acaas_nova.compliance import planner
from acaas_nova.scheduler import matching as m
from acaas_nova.scheduler import precedence
from acaas_nova.scheduler import requirements as reqs_mod
from acaas_nova.scheduler import topology as topo_mod
from tests.unit.scheduler import snapshots as s

POLICY = m.Policy(True, 300)
HOSTS = ["a1", "a2", "b1", "f1"]


def _domains(**changes):
    doms = {
        "uk-a": dataclasses.replace(
            s.domain("uk-a", "UK", backups=[("uk-b", 1)]),
            dcot="d-uk-a",
            cdcot="c-uk-a",
        ),
        "uk-b": dataclasses.replace(
            s.domain("uk-b", "UK"), dcot="d-uk-b", cdcot="c-uk-b"
        ),
        "fr-a": dataclasses.replace(
            s.domain("fr-a", "FR"), dcot=None, cdcot=None
        ),
    }
    for name, fields in changes.items():
        doms[name] = dataclasses.replace(doms[name], **fields)
    return list(doms.values())


def _nodes(**status):
    wls = {"a1": ("gold", "silver"), "a2": ("gold",), "b1": ("gold", "silver")}
    doms = {"a1": "uk-a", "a2": "uk-a", "b1": "uk-b", "f1": "fr-a"}
    return [
        s.node(
            h,
            doms[h],
            status=status.get(h, "trusted"),
            whitelists=wls.get(h, ("gold",)),
        )
        for h in HOSTS
    ]


def _topology(nodes=None, domains=None):
    return topo_mod.Topology(
        s.snapshot(nodes=nodes or _nodes(), domains=domains or _domains())
    )


def _matcher(hints, topology=None, flavor=None, policy=POLICY):
    reqs = precedence.resolve(hints, flavor or {})
    return m.RequestMatcher(reqs, topology or _topology(), policy, s.NOW_TS)


def _passing(mt):
    return [h for h in HOSTS if mt.node_reason((h, h)) is None]


def test_topology_derives_each_chains_white_lists():
    topo = _topology()
    assert topo.domains["uk-a"].trusted_under == {"gold"}
    assert topo.domains["uk-b"].trusted_under == {"gold", "silver"}
    assert topo.domains["uk-a"].backup_trusted_under == {"gold"}
    # No backups: the CDCoT is the domain's own class.
    assert topo.domains["uk-b"].backup_trusted_under == {"gold", "silver"}
    # DC-S stored the DCoT as undefined: it vouches for nothing.
    assert topo.domains["fr-a"].trusted_under == frozenset()
    assert topo.members["uk-a"] == [("a1", "a1"), ("a2", "a2")]


def test_domain_trust_holds_for_every_member():
    assert _passing(_matcher({"acaas:domain_trust": "gold"})) == [
        "a1",
        "a2",
        "b1",
    ]


def test_domain_trust_fails_on_a_host_that_itself_qualifies():
    mt = _matcher({"acaas:domain_trust": "silver"})
    assert _passing(mt) == ["b1"]
    # a1 satisfies silver, its fellow member a2 does not.
    assert mt.node_reason(("a1", "a1")) == (
        "domain uk-a: no DCoT for white-list silver "
        "(node a2 does not satisfy it)"
    )
    # The plain white-list check is per host: a1 passes it.
    assert "a1" in _passing(_matcher({"acaas:whitelist": "silver"}))


def test_undefined_dcot_refuses_the_domain():
    mt = _matcher({"acaas:domain_trust": "gold"})
    assert mt.node_reason(("f1", "f1")) == (
        "domain fr-a: no DCoT for white-list gold (its DCoT is undefined)"
    )


def test_untrusted_member_breaks_the_dcot_even_before_dc_s_recomputes():
    # DC-S still has a defined DCoT stored; the snapshot's a2 is untrusted.
    topo = _topology(nodes=_nodes(a2="untrusted"))
    mt = _matcher({"acaas:domain_trust": "gold"}, topo)
    assert mt.node_reason(("a1", "a1")) == (
        "domain uk-a: no DCoT for white-list gold (node a2 is untrusted)"
    )
    assert _passing(mt) == ["b1"]


def test_corrupt_member_breaks_the_dcot():
    nodes = _nodes()
    nodes[1] = dataclasses.replace(nodes[1], defect="bad JSON")
    mt = _matcher({"acaas:domain_trust": "gold"}, _topology(nodes=nodes))
    assert "node a2 is corrupt" in mt.node_reason(("a1", "a1"))


def test_backup_trust_spans_the_collaborating_domains():
    mt = _matcher({"acaas:backup_trust": "gold"})
    assert _passing(mt) == ["a1", "a2", "b1"]
    mt = _matcher({"acaas:backup_trust": "silver"})
    assert _passing(mt) == ["b1"]
    assert mt.node_reason(("a2", "a2")) == (
        "domain uk-a with backups uk-b: no CDCoT for white-list silver "
        "(domain uk-a: node a2 does not satisfy it)"
    )


def test_backup_trust_fails_when_a_backup_domain_member_fails():
    backed = s.domain("uk-b", "UK", backups=[("uk-a", 1)])
    domains = _domains(**{"uk-b": {"backups": backed.backups}})
    nodes = _nodes(a2="unknown")
    mt = _matcher({"acaas:backup_trust": "gold"}, _topology(nodes, domains))
    # b1's own domain is fine; its backup uk-a is not.
    assert mt.node_reason(("b1", "b1")) == (
        "domain uk-b with backups uk-a: no CDCoT for white-list gold "
        "(domain uk-a: node a2 is unknown)"
    )
    # domain_trust alone does not look at backups.
    mt = _matcher({"acaas:domain_trust": "gold"}, _topology(nodes, domains))
    assert mt.node_reason(("b1", "b1")) is None


def test_undefined_cdcot_refuses_the_domain():
    domains = _domains(**{"uk-a": {"cdcot": None}})
    mt = _matcher({"acaas:backup_trust": "gold"}, _topology(domains=domains))
    assert mt.node_reason(("a1", "a1")).endswith("(its CDCoT is undefined)")
    assert mt.node_reason(("b1", "b1")) is None


def test_domainless_and_unrecorded_nodes_cannot_offer_a_chain():
    nodes = [*_nodes(), s.node("lone", None)]
    relaxed = m.Policy(False, 300)
    topo = _topology(nodes=nodes)
    mt = _matcher({"acaas:domain_trust": "gold"}, topo, policy=relaxed)
    assert mt.node_reason(("lone", "lone")) == (
        "node belongs to no physical domain"
    )
    assert "needs a domain chain of trust" in mt.node_reason(("zz", "zz"))
    assert _matcher({}, topo, policy=relaxed).node_reason(("zz", "zz")) is None


def test_verdict_cache_tells_requirement_sets_apart():
    topo = _topology()
    assert "a1" in _passing(_matcher({"acaas:whitelist": "gold"}, topo))
    mt = _matcher(
        {"acaas:whitelist": "gold", "acaas:domain_trust": "silver"}, topo
    )
    assert not mt.passes(("a1", "a1"))
    assert mt.passes(("b1", "b1"))


def test_flavor_and_hint_chains_are_unions():
    reqs = precedence.resolve(
        {"acaas:domain_trust": "silver"},
        {"acaas:domain_trust": "gold", "acaas:backup_trust": "gold"},
    )
    assert reqs.domain_trust == {"gold", "silver"}
    assert reqs.backup_trust == {"gold"}
    assert reqs_mod.describe(reqs) == (
        "domain_trust=gold,silver backup_trust=gold"
    )


def test_stored_spec_carries_chains_and_hints_override():
    reqs = precedence.resolve(
        {"acaas:requirement": "rs"}, {}, lambda _n: {"domain_trust": "gold"}
    )
    assert reqs.domain_trust == {"gold"}
    reqs = precedence.resolve(
        {"acaas:requirement": "rs", "acaas:domain_trust": "silver"},
        {},
        lambda _n: {"domain_trust": "gold"},
    )
    assert reqs.domain_trust == {"silver"}


@pytest.mark.parametrize("value", ["", "gold,,silver", "bad name", ["x", 1]])
def test_bad_chain_values_are_refused(value):
    with pytest.raises(exception.InvalidRequirement, match="domain_trust"):
        reqs_mod.parse({"acaas:domain_trust": value})


# -- compliance: an undefined DCoT is handled like an untrusted host -----


def _tracked(uuid, host, **hints):
    raw = {"acaas:%s" % k: v for k, v in hints.items()}
    return planner.Tracked(
        uuid=uuid,
        host=(host, host),
        requester=m.Requester("u1", "p1", uuid),
        requirements=reqs_mod.parse(raw) if raw else reqs_mod.EMPTY,
    )


def _plan(topology, tracked, room=4, **free):
    violations = planner.sweep(tracked, topology, POLICY, s.NOW_TS)
    rooms = {key: (room,) for key in topology.nodes}
    rooms.update({(h, h): (v,) for h, v in free.items()})
    occupancy = occ_mod.Occupancy(tracked, rooms)
    return violations, planner.plan(
        violations, topology, POLICY, s.NOW_TS, occupancy
    )


def test_server_whose_dcot_breaks_moves_to_its_backup_domain():
    # a2 turns untrusted: a1 stays trusted, but uk-a's DCoT breaks.
    topo = _topology(nodes=_nodes(a2="untrusted"))
    chained = _tracked("chained", "a1", domain_trust="gold")
    plain = _tracked("plain", "a1", whitelist="gold")
    violations, plan = _plan(topo, [chained, plain])
    assert [v.instance.uuid for v in violations] == ["chained"]
    assert "node a2 is untrusted" in violations[0].reason
    (move,) = plan.moves
    assert (move.instance_uuid, move.destination[0], move.tier) == (
        "chained",
        "b1",
        planner.TIER_BACKUP,
    )


def test_server_whose_chain_nowhere_holds_is_stuck_with_each_tiers_reason():
    topo = _topology(nodes=_nodes(a2="untrusted"))
    chained = _tracked("chained", "a1", domain_trust="gold")
    _violations, plan = _plan(topo, [chained], b1=0)
    (stuck,) = plan.stuck
    tried = dict(stuck.tried)
    assert "a2: attestation status is untrusted" in tried["uk-a"]
    assert "capacity" in tried["uk-b"]


def test_backup_trust_server_moves_within_its_domain_when_chain_holds():
    # a1 itself turns untrusted; the CDCoT of uk-a (with uk-b) is then
    # undefined too, so the server leaves for the backup domain.
    topo = _topology(nodes=_nodes(a1="untrusted"))
    inst = _tracked("i", "a1", backup_trust="gold")
    _violations, plan = _plan(topo, [inst])
    assert [(mv.destination[0], mv.tier) for mv in plan.moves] == [
        ("b1", planner.TIER_BACKUP)
    ]
    # Without a chain requirement it stays in its domain (a2).
    _violations, plan = _plan(topo, [_tracked("j", "a1")])
    assert [(mv.destination[0], mv.tier) for mv in plan.moves] == [
        ("a2", planner.TIER_SAME_DOMAIN)
    ]
