"""The per-snapshot view used by the filter and the weigher."""

import datetime

from acaas_nova.db import records
from acaas_nova.scheduler import topology
from tests.unit.scheduler import snapshots as s


def test_nodes_carry_domain_caps_overlaid_by_properties():
    snap = s.snapshot(
        nodes=[s.node("h1", "uk-a", gpu="no", ram="big")],
    )
    topo = topology.Topology(snap)
    facts = topo.nodes[("h1", "h1")]
    assert facts.capabilities == {"gpu": "no", "ram": "big"}
    assert facts.attested_at == s.NOW_TS - 10
    assert facts.whitelists == {"gold"}


def test_backups_sorted_by_priority_and_emergency_flag():
    topo = topology.Topology(s.snapshot())
    assert topo.domains["uk-b"].backups == ("uk-a", "fr-a")
    assert topo.domains["em-us"].emergency
    assert not topo.domains["uk-a"].emergency


def test_distances():
    topo = topology.Topology(s.snapshot())
    assert topo.distance("UK", "UK") == 0
    assert topo.distance("FR", "UK") == 5
    assert topo.distance("UK", "XX") is None
    assert topo.distance_to_any("US", frozenset({"UK", "FR"})) == 45
    assert topo.distance_to_any("XX", frozenset({"UK"})) is None


def test_domain_of():
    snap = s.snapshot(nodes=[s.node("h1", None), s.node("h2", "uk-a")])
    topo = topology.Topology(snap)
    assert topo.domain_of(("h1", "h1")) is None
    assert topo.domain_of(("h2", "h2")).name == "uk-a"
    assert topo.domain_of(("zz", "zz")) is None


def test_aware_timestamps_are_kept():
    aware = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    node = records.Node(
        host="h",
        hypervisor_hostname="h",
        compute_node_uuid=None,
        domain=None,
        properties={},
        last_attested_at=aware,
    )
    topo = topology.Topology(s.snapshot(nodes=[node]))
    assert topo.nodes[("h", "h")].attested_at == aware.timestamp()


def test_empty_topology():
    topo = topology.empty_topology()
    assert topo.nodes == {} and topo.domains == {}
