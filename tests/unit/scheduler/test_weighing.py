"""Preference order: location and distance; source domain and backups."""

from acaas_nova.scheduler import topology
from acaas_nova.scheduler import weighing
from tests.unit.scheduler import snapshots as s

HOSTS = ["h-uk-a", "h-uk-b", "h-fr-a", "h-em-us"]


def order(pref, hosts=HOSTS):
    return sorted(hosts, key=lambda h: -pref.score((h, h)))


def test_inactive_gives_equal_weights():
    pref = weighing.Preference(topology.Topology(s.snapshot()))
    assert not pref.active
    assert {pref.score((h, h)) for h in HOSTS + ["zz"]} == {0.0}


def test_requested_location_first_then_distance():
    pref = weighing.Preference(
        topology.Topology(s.snapshot()), locations=frozenset({"UK"})
    )
    assert pref.score(("h-uk-a", "h-uk-a")) == pref.score(("h-uk-b", "h-uk-b"))
    assert order(pref)[2:] == ["h-fr-a", "h-em-us"]
    pref = weighing.Preference(
        topology.Topology(s.snapshot()), locations=frozenset({"US"})
    )
    assert order(pref) == ["h-em-us", "h-fr-a", "h-uk-a", "h-uk-b"]


def test_unknown_hosts_and_distances_rank_last():
    snap = s.snapshot(distances={("UK", "FR"): 5})
    pref = weighing.Preference(
        topology.Topology(snap), locations=frozenset({"UK"})
    )
    assert order(pref, HOSTS + ["zz"])[-2:] in (
        ["h-em-us", "zz"],
        ["zz", "h-em-us"],
    )
    assert pref.score(("zz", "zz")) < pref.score(("h-em-us", "h-em-us"))


def test_move_prefers_source_domain_then_backups_by_priority():
    snap = s.snapshot(
        nodes=[
            s.node("a1", "uk-a"),
            s.node("b1", "uk-b"),
            s.node("b2", "uk-b"),
            s.node("f1", "fr-a"),
            s.node("e1", "em-us"),
        ]
    )
    pref = weighing.Preference(topology.Topology(snap), source_domain="uk-b")
    ranked = order(pref, ["e1", "f1", "a1", "b2", "b1"])
    assert ranked[:2] in (["b2", "b1"], ["b1", "b2"])
    assert ranked[2:] == ["a1", "f1", "e1"]


def test_move_from_domain_without_backups_uses_distance():
    pref = weighing.Preference(
        topology.Topology(s.snapshot()), source_domain="fr-a"
    )
    ranked = order(pref)
    assert ranked[0] == "h-fr-a"
    assert ranked[-1] == "h-em-us"


def test_move_with_locations_uses_requested_distance_in_tiers():
    pref = weighing.Preference(
        topology.Topology(s.snapshot()),
        locations=frozenset({"FR"}),
        source_domain="uk-b",
    )
    assert order(pref) == ["h-uk-b", "h-uk-a", "h-fr-a", "h-em-us"]
