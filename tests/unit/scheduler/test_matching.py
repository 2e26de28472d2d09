"""Host matching: trust, location, white-list, emergency, capability and
isolation, alone and combined."""

import pytest

from acaas_nova.db import records
from acaas_nova.scheduler import matching as m
from acaas_nova.scheduler import precedence
from acaas_nova.scheduler import requirements as reqs_mod
from acaas_nova.scheduler import topology
from tests.unit.scheduler import snapshots as s

ALICE = m.Requester("alice", "pa", "inst-new")
HOSTS = ["h-uk-a", "h-uk-b", "h-fr-a", "h-em-us"]


def matcher(hints=None, flavor=None, snap=None, policy=None, **kw):
    reqs = precedence.resolve(hints or {}, flavor or {})
    return m.RequestMatcher(
        reqs,
        topology.Topology(snap or s.snapshot()),
        policy or m.Policy(True, 300),
        s.NOW_TS,
        kw.pop("requester", ALICE),
        **kw,
    )


def passing(mt, hosts=HOSTS):
    return [h for h in hosts if mt.node_reason((h, h)) is None]


def test_no_requirements_passes_every_trusted_local_host():
    assert passing(matcher()) == ["h-uk-a", "h-uk-b", "h-fr-a"]


def test_unknown_host_is_rejected():
    assert "no ACaaS record" in matcher().node_reason(("zz", "zz"))


@pytest.mark.parametrize(
    "status,age,reason",
    [
        ("untrusted", 10, "status is untrusted"),
        ("unknown", 10, "status is unknown"),
        ("trusted", 301, "stale"),
        ("trusted", None, "stale"),
    ],
)
def test_fail_closed_on_trust(status, age, reason):
    snap = s.snapshot(nodes=[s.node("h", "uk-a", status=status, age=age)])
    assert reason in matcher(snap=snap).node_reason(("h", "h"))


def test_ttl_edge_is_inclusive():
    snap = s.snapshot(nodes=[s.node("h", "uk-a", age=300)])
    assert matcher(snap=snap).node_reason(("h", "h")) is None


def test_attestation_not_required():
    snap = s.snapshot(nodes=[s.node("h", "uk-a", status="unknown", age=None)])
    mt = matcher(snap=snap, policy=m.Policy(False, 300))
    assert mt.node_reason(("h", "h")) is None


def test_node_without_domain_or_with_unknown_domain():
    snap = s.snapshot(nodes=[s.node("h1", None), s.node("h2", "gone")])
    mt = matcher(snap=snap)
    assert "no physical domain" in mt.node_reason(("h1", "h1"))
    assert "unknown domain" in mt.node_reason(("h2", "h2"))


def test_location():
    mt = matcher({"acaas:location": "UK"})
    assert passing(mt) == ["h-uk-a", "h-uk-b"]
    assert mt.node_reason(("h-fr-a", "h-fr-a")) == "location FR not in UK"


def test_location_with_distance():
    assert passing(
        matcher({"acaas:location": "UK", "acaas:max_distance": "5"})
    ) == ["h-uk-a", "h-uk-b", "h-fr-a"]
    mt = matcher({"acaas:location": "UK", "acaas:max_distance": "4"})
    assert passing(mt) == ["h-uk-a", "h-uk-b"]
    assert "5 away" in mt.node_reason(("h-fr-a", "h-fr-a"))


def test_distance_unknown_pair_fails():
    snap = s.snapshot(distances={})
    mt = matcher(
        {"acaas:location": "UK", "acaas:max_distance": "100"}, snap=snap
    )
    assert "not known to be near" in mt.node_reason(("h-fr-a", "h-fr-a"))


def test_flavor_and_hint_locations_both_apply():
    flavor = {"acaas:location": "UK", "acaas:max_distance": "5"}
    assert passing(matcher({"acaas:location": "FR"}, flavor)) == ["h-fr-a"]
    mt = matcher({"acaas:location": "US"}, flavor, **{})
    assert passing(mt) == []


def test_whitelist():
    mt = matcher({"acaas:whitelist": "silver"})
    assert passing(mt) == ["h-uk-b"]
    reason = mt.node_reason(("h-uk-a", "h-uk-a"))
    assert reason == "white-list silver not satisfied"
    assert passing(matcher({"acaas:whitelist": "gold,silver"})) == ["h-uk-b"]


def test_whitelist_ignored_when_not_requested_even_if_node_has_none():
    snap = s.snapshot(nodes=[s.node("h", "uk-a", whitelists=())])
    assert matcher(snap=snap).node_reason(("h", "h")) is None


def test_emergency_only_when_allowed():
    mt = matcher()
    assert "emergency domain em-us" in mt.node_reason(("h-em-us", "h-em-us"))
    assert "h-em-us" in passing(matcher({"acaas:allow_emergency": "true"}))
    assert "h-em-us" in passing(
        matcher(flavor={"acaas:allow_emergency": "true"})
    )


def test_emergency_still_subject_to_location():
    hints = {"acaas:allow_emergency": "true", "acaas:location": "UK"}
    assert passing(matcher(hints)) == ["h-uk-a", "h-uk-b"]
    hints["acaas:max_distance"] = "50"
    assert "h-em-us" in passing(matcher(hints))


def test_capability_from_domain_and_node_property():
    assert passing(matcher({"acaas:capability:gpu": "yes"})) == ["h-uk-a"]
    snap = s.snapshot(
        nodes=[s.node("h1", "uk-a", gpu="no"), s.node("h2", "fr-a", gpu="yes")]
    )
    mt = matcher({"acaas:capability:gpu": "yes"}, snap=snap)
    assert passing(mt, ["h1", "h2"]) == ["h2"]
    assert mt.node_reason(("h1", "h1")) == (
        "capability gpu=yes not offered (has no)"
    )


def test_every_requirement_at_once():
    hints = {
        "acaas:location": "UK",
        "acaas:max_distance": "5",
        "acaas:whitelist": "silver",
        "acaas:capability:gpu": "yes",
    }
    snap = s.snapshot(
        nodes=[
            s.node("ok", "fr-a", whitelists=("silver",), gpu="yes"),
            s.node("nogpu", "fr-a", whitelists=("silver",)),
            s.node("nowl", "uk-a"),
            s.node("far", "em-us", whitelists=("silver",), gpu="yes"),
            s.node("stale", "uk-a", age=999, whitelists=("silver",)),
        ]
    )
    mt = matcher(hints, snap=snap)
    got = {h: mt.node_reason((h, h)) for h in ["ok", "nogpu", "nowl", "far"]}
    assert got["ok"] is None
    assert "capability gpu" in got["nogpu"]
    assert "white-list" in got["nowl"]
    assert "emergency" in got["far"]
    assert "stale" in mt.node_reason(("stale", "stale"))


OWNERS = {
    "i-bob": ("bob", "pb"),
    "i-alice": ("alice", "pa"),
    "i-carol": ("carol", "pa"),
}


def occ(uuids, owners=OWNERS, own=None):
    """The filter's summary of a host's instances, as arguments."""
    known = [owners[u] for u in uuids if u in owners and u != own]
    unknown = [u for u in uuids if u not in owners]
    return (
        set(uuids),
        {user for user, _ in known},
        {project for _, project in known},
        unknown[0] if unknown else None,
    )


def test_occupants_exclude_users_and_projects():
    mt = matcher({"acaas:exclude_users": "bob"})
    assert mt.checks_occupants
    assert mt.occupant_reason(*occ(["i-alice"])) is None
    assert mt.occupant_reason(*occ(["i-alice", "i-bob"])) == (
        "runs instances of excluded user bob"
    )
    mt = matcher({"acaas:exclude_projects": "pb"})
    assert "excluded project pb" in mt.occupant_reason(*occ(["i-bob"]))


def test_exclusive_requires_only_own_project():
    mt = matcher({"acaas:isolation": "exclusive"})
    assert mt.occupant_reason(*occ(["i-alice", "i-carol"])) is None
    reason = mt.occupant_reason(*occ(["i-bob"]))
    assert reason == "exclusive: runs instances of project pb"


def test_unknown_owner_fails_closed_only_when_needed():
    mt = matcher({"acaas:exclude_users": "bob"})
    assert "owner of instance i-x unknown" in mt.occupant_reason(*occ(["i-x"]))
    assert not matcher().checks_occupants


def test_own_instance_is_ignored_on_moves():
    mt = matcher(
        {"acaas:isolation": "exclusive"},
        requester=m.Requester("bob", "pb", "i-bob"),
    )
    assert mt.occupant_reason(*occ(["i-bob"], own="i-bob")) is None


def trust(uuid, user, project, users=(), projects=(), exclusive=False):
    return records.InstanceTrust(
        instance_uuid=uuid,
        project_id=project,
        user_id=user,
        exclude_users=tuple(users),
        exclude_projects=tuple(projects),
        exclusive=exclusive,
    )


def test_blocking_instances_symmetry():
    recs = [
        trust("i-bob", "bob", "pb", users=["alice"]),
        trust("i-dan", "dan", "pd", projects=["pa"]),
        trust("i-eve", "eve", "pe", exclusive=True),
        trust("i-fay", "fay", "pa", exclusive=True),
        trust("i-gus", "gus", "pg", users=["zed"]),
    ]
    got = m.blocking_instances(recs, ALICE)
    assert set(got) == {"i-bob", "i-dan", "i-eve"}
    assert "excludes user alice" in got["i-bob"]
    assert "excludes project pa" in got["i-dan"]
    assert "exclusive to project pe" in got["i-eve"]


def test_blockers_reject_hosts_even_without_own_requirements():
    blockers = m.blocking_instances(
        [trust("i-bob", "bob", "pb", users=["alice"])], ALICE
    )
    mt = matcher(blockers=blockers)
    assert mt.checks_occupants and not mt.wants_owners
    # Owners need not be known when only blockers are checked.
    assert "excludes user alice" in mt.occupant_reason(
        *occ(["i-x", "i-bob"], {})
    )
    assert mt.occupant_reason(*occ(["i-x"], {})) is None


def test_blocking_ignores_the_requesters_own_record():
    me = trust("inst-new", "alice", "pa", exclusive=True)
    assert m.blocking_instances([me], ALICE) == {}


def test_passes_agrees_with_node_reason_everywhere():
    snap = s.snapshot(
        nodes=[
            s.node("ok", "uk-a"),
            s.node("old", "uk-a", age=301),
            s.node("edge", "uk-a", age=300),
            s.node("never", "uk-a", age=None),
            s.node("bad", "uk-a", status="untrusted"),
            s.node("far", "em-us"),
            s.node("nodom", None),
        ]
    )
    for hints in ({}, {"acaas:location": "US", "acaas:allow_emergency": "1"}):
        mt = matcher(hints, snap=snap)
        for key in list(mt.topology.nodes) + [("zz", "zz")]:
            assert mt.passes(key) == (mt.node_reason(key) is None), key


def test_static_verdicts_cached_per_topology_and_requirements():
    topo = topology.Topology(s.snapshot())
    policy = m.Policy(True, 300)
    reqs = precedence.resolve({"acaas:location": "UK"}, {})
    a = m.RequestMatcher(reqs, topo, policy, s.NOW_TS, ALICE)
    b = m.RequestMatcher(reqs, topo, policy, s.NOW_TS + 1000, ALICE)
    assert a.expiry is b.expiry
    # The attestation deadline is still applied per request.
    assert a.passes(("h-uk-a", "h-uk-a"))
    assert not b.passes(("h-uk-a", "h-uk-a"))
    other = precedence.resolve({"acaas:location": "FR"}, {})
    c = m.RequestMatcher(other, topo, policy, s.NOW_TS, ALICE)
    assert c.expiry is not a.expiry
    assert c.passes(("h-fr-a", "h-fr-a"))


def test_without_attestation_verdicts_never_expire():
    mt = matcher(policy=m.Policy(False, 300))
    assert mt.expiry[("h-uk-a", "h-uk-a")] == float("inf")


def test_a_domain_in_maintenance_takes_no_new_server():
    domains = [
        records.Domain(
            name="uk-a",
            location="UK",
            source="local",
            capabilities={},
            maintenance=True,
        ),
        s.domain("uk-b", "UK"),
    ]
    nodes = [s.node("h-uk-a", "uk-a"), s.node("h-uk-b", "uk-b")]
    topo = topology.Topology(s.snapshot(nodes=nodes, domains=domains))
    matcher = m.RequestMatcher(
        reqs_mod.EMPTY,
        topo,
        m.Policy(),
        s.NOW_TS,
    )
    assert matcher.node_reason(("h-uk-a", "h-uk-a")) == (
        "domain uk-a is in maintenance"
    )
    assert not matcher.passes(("h-uk-a", "h-uk-a"))
    assert matcher.passes(("h-uk-b", "h-uk-b"))
