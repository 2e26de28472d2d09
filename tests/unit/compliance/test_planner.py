"""The compliance plan: who leaves which host, and for where."""

from acaas_nova.compliance import occupancy as occ_mod
from acaas_nova.compliance import planner
from acaas_nova.scheduler import matching
from acaas_nova.scheduler import requirements as reqs_mod
from acaas_nova.scheduler import topology as topo_mod
from tests.unit.scheduler import snapshots as snaps

POLICY = matching.Policy(require_attestation=True, attestation_ttl=300)
NOW = snaps.NOW_TS


def _cloud(bad=("b1",), extra=()):
    """uk-b: b1 b2 (backups uk-a prio 1, fr-a prio 2, em-us prio 3)."""
    domains = [
        snaps.domain("uk-a", "UK"),
        snaps.domain(
            "uk-b", "UK", backups=[("fr-a", 2), ("uk-a", 1), ("em-us", 3)]
        ),
        snaps.domain("fr-a", "FR"),
        snaps.domain("em-us", "US", source="emergency"),
    ]
    hosts = [("b1", "uk-b"), ("b2", "uk-b"), ("a1", "uk-a"), ("f1", "fr-a")]
    hosts += [("e1", "em-us")] + list(extra)
    nodes = [
        snaps.node(h, d, status="untrusted" if h in bad else "trusted")
        for h, d in hosts
    ]
    return topo_mod.Topology(snaps.snapshot(nodes=nodes, domains=domains))


def _inst(uuid, host="b1", user="u1", project="p1", size=(1,), **hints):
    raw = {"acaas:%s" % k: v for k, v in hints.items()}
    return planner.Tracked(
        uuid=uuid,
        host=(host, host),
        requester=matching.Requester(user, project, uuid),
        requirements=reqs_mod.parse(raw, "hint") if raw else reqs_mod.EMPTY,
        size=size,
    )


def _free(topology, room=4, **overrides):
    free = {key: (room,) for key in topology.nodes}
    for host, value in overrides.items():
        free[(host, host)] = (value,)
    return free


def _plan(topology, tracked, free, maintenance=frozenset()):
    violations = planner.sweep(tracked, topology, POLICY, NOW, maintenance)
    occupancy = occ_mod.Occupancy(tracked, free)
    return planner.plan(
        violations, topology, POLICY, NOW, occupancy, maintenance
    )


def _dest(result):
    return {m.instance_uuid: (m.destination[0], m.tier) for m in result.moves}


def test_sweep_flags_only_instances_on_failing_hosts():
    topology = _cloud(bad=("b1",))
    tracked = [_inst("i1", "b1"), _inst("i2", "b2")]
    violations = planner.sweep(tracked, topology, POLICY, NOW)
    assert [(v.instance.uuid, v.reason) for v in violations] == [
        ("i1", "attestation status is untrusted")
    ]


def test_sweep_flags_stale_attestation_and_lost_requirements():
    topology = _cloud(bad=())
    tracked = [_inst("i1", "b2", whitelist="platinum")]
    violations = planner.sweep(tracked, topology, POLICY, NOW + 1000)
    assert len(violations) == 1
    assert (
        "platinum" in violations[0].reason or "stale" in violations[0].reason
    )


def test_sweep_flags_instances_of_a_domain_in_maintenance():
    topology = _cloud(bad=())
    tracked = [_inst("i1", "b1"), _inst("i2", "a1")]
    violations = planner.sweep(
        tracked, topology, POLICY, NOW, frozenset({"uk-b"})
    )
    assert [v.instance.uuid for v in violations] == ["i1"]
    assert violations[0].reason == "domain uk-b is in maintenance"


def test_same_domain_is_preferred():
    topology = _cloud()
    result = _plan(topology, [_inst("i1")], _free(topology))
    assert _dest(result) == {"i1": ("b2", planner.TIER_SAME_DOMAIN)}
    assert result.stuck == ()


def test_full_domain_falls_back_to_backups_by_priority():
    topology = _cloud()
    tracked = [_inst("i%d" % n) for n in range(3)]
    # b2 takes one, uk-a (priority 1) one, fr-a (priority 2) the third.
    result = _plan(topology, tracked, _free(topology, room=1))
    tiers = sorted(_dest(result).values())
    assert tiers == [
        ("a1", planner.TIER_BACKUP),
        ("b2", planner.TIER_SAME_DOMAIN),
        ("f1", planner.TIER_BACKUP),
    ]


def test_emergency_domain_only_for_instances_that_allow_it():
    topology = _cloud()
    tracked = [
        _inst("ok", allow_emergency="true"),
        _inst("no"),
    ]
    free = _free(topology, b2=0, a1=0, f1=0)
    result = _plan(topology, tracked, free)
    assert _dest(result) == {"ok": ("e1", planner.TIER_EMERGENCY)}
    (stuck,) = result.stuck
    assert stuck.instance_uuid == "no"
    tried = dict(stuck.tried)
    assert "capacity" in tried["uk-a"]
    assert "requirements" in tried["em-us"]


def test_nothing_qualifies_leaves_the_instance_with_every_reason():
    topology = _cloud(bad=("b1", "b2", "a1", "f1", "e1"))
    result = _plan(topology, [_inst("i1")], _free(topology))
    assert result.moves == ()
    (stuck,) = result.stuck
    assert stuck.reason == "attestation status is untrusted"
    assert [d for d, _ in stuck.tried] == ["uk-b", "uk-a", "fr-a", "em-us"]


def test_destinations_must_meet_the_instance_requirements():
    topology = _cloud()
    tracked = [_inst("i1", location="FR")]
    # b1 is in UK: the instance is off-location *and* its host untrusted.
    result = _plan(topology, tracked, _free(topology))
    assert _dest(result) == {"i1": ("f1", planner.TIER_BACKUP)}


def test_capacity_taken_by_earlier_moves_is_seen_by_later_ones():
    topology = _cloud()
    tracked = [_inst("big", size=(3,)), _inst("small", size=(2,))]
    result = _plan(topology, tracked, _free(topology, room=4))
    dest = _dest(result)
    assert dest["big"] == ("b2", planner.TIER_SAME_DOMAIN)
    assert dest["small"] == ("a1", planner.TIER_BACKUP)


def test_an_instance_never_joins_a_user_it_excludes():
    topology = _cloud()
    tracked = [
        _inst("mover", exclude_users="u2"),
        _inst("other", host="b2", user="u2", project="p2"),
    ]
    result = _plan(topology, tracked, _free(topology))
    assert _dest(result) == {"mover": ("a1", planner.TIER_BACKUP)}


def test_an_occupant_that_excludes_the_mover_keeps_it_away():
    topology = _cloud()
    tracked = [
        _inst("mover", project="p1"),
        _inst(
            "picky", host="b2", user="u2", project="p2", exclude_projects="p1"
        ),
        _inst(
            "solo", host="a1", user="u3", project="p3", isolation="exclusive"
        ),
    ]
    result = _plan(topology, tracked, _free(topology))
    assert _dest(result) == {"mover": ("f1", planner.TIER_BACKUP)}


def test_two_movers_that_exclude_each_other_are_split():
    topology = _cloud()
    tracked = [
        _inst("x", user="u1", project="p1", exclude_projects="p2"),
        _inst("y", user="u2", project="p2"),
    ]
    result = _plan(topology, tracked, _free(topology))
    dest = _dest(result)
    assert dest["x"][0] != dest["y"][0]


def test_a_domain_in_maintenance_is_never_a_destination():
    topology = _cloud(bad=("b1",))
    result = _plan(
        topology,
        [_inst("i1")],
        _free(topology, b2=0),
        frozenset({"uk-a"}),
    )
    assert _dest(result) == {"i1": ("f1", planner.TIER_BACKUP)}
    topology = _cloud(bad=(), extra=[("b3", "uk-b")])
    drained = _plan(
        topology,
        [_inst("i1", host="b2")],
        _free(topology),
        frozenset({"uk-b"}),
    )
    assert _dest(drained) == {"i1": ("a1", planner.TIER_BACKUP)}


def test_destination_order_puts_local_backups_before_emergency_ones():
    topology = _cloud()
    assert planner.destination_domains(topology, "uk-b") == [
        (planner.TIER_SAME_DOMAIN, "uk-b"),
        (planner.TIER_BACKUP, "uk-a"),
        (planner.TIER_BACKUP, "fr-a"),
        (planner.TIER_EMERGENCY, "em-us"),
    ]
    assert planner.destination_domains(topology, None) == []
