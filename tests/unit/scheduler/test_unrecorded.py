"""Hosts acaas-nova has no record of (the pure decision, issue 11).

With ``require_attestation = false`` an unrecorded node (or a recorded one
in no physical domain) passes requests that need nothing it lacks: no
location, no white-list, no capability.  With ``require_attestation =
true`` it is refused whatever the request (fail closed).
"""

import dataclasses

import pytest

from acaas_nova.scheduler import matching as m
from acaas_nova.scheduler import precedence
from acaas_nova.scheduler import topology
from tests.unit.scheduler import snapshots as s

OPEN = m.Policy(require_attestation=False, attestation_ttl=300)
CLOSED = m.Policy(require_attestation=True, attestation_ttl=300)
NOBODY = ("nobody-added", "nobody-added")


def matcher(hints, policy, snap=None):
    return m.RequestMatcher(
        precedence.resolve(hints, {}),
        topology.Topology(snap or s.snapshot()),
        policy,
        s.NOW_TS,
        m.Requester("alice", "pa", "i1"),
    )


@pytest.mark.parametrize(
    "hints",
    [
        {},
        {"acaas:exclude_users": "bob"},
        {"acaas:isolation": "exclusive"},
        {"acaas:allow_emergency": "true"},
    ],
)
def test_unrecorded_node_passes_requests_needing_nothing_it_lacks(hints):
    mt = matcher(hints, OPEN)
    assert mt.unrecorded_ok
    assert mt.node_reason(NOBODY) is None


@pytest.mark.parametrize(
    "hints,needs",
    [
        ({"acaas:location": "UK"}, "a location"),
        ({"acaas:whitelist": "gold"}, "white-lists"),
        ({"acaas:capability:gpu": "yes"}, "capabilities"),
    ],
)
def test_unrecorded_node_refused_when_request_needs_what_it_lacks(
    hints, needs
):
    mt = matcher(hints, OPEN)
    assert not mt.unrecorded_ok
    assert mt.node_reason(NOBODY) == (
        "no ACaaS record of this compute node, and the request needs %s"
        % needs
    )


@pytest.mark.parametrize("hints", [{}, {"acaas:location": "UK"}])
def test_fail_closed_when_attestation_is_required(hints):
    mt = matcher(hints, CLOSED)
    assert not mt.unrecorded_ok
    assert mt.node_reason(NOBODY) == "no ACaaS record of this compute node"


def test_domainless_node_follows_the_same_rule():
    snap = s.snapshot(nodes=[s.node("loose", None, status="unknown")])
    key = ("loose", "loose")
    assert matcher({}, OPEN, snap).node_reason(key) is None
    assert "no physical domain" in matcher(
        {"acaas:location": "UK"}, OPEN, snap
    ).node_reason(key)
    assert "status is unknown" in matcher({}, CLOSED, snap).node_reason(key)


def test_recorded_nodes_keep_their_verdicts():
    mt = matcher({"acaas:location": "FR"}, OPEN)
    assert mt.node_reason(("h-fr-a", "h-fr-a")) is None
    assert mt.node_reason(("h-uk-a", "h-uk-a")) == "location UK not in FR"


def test_corrupt_record_rejects_only_that_node():
    snap = s.snapshot()
    broken = s.node("broken", "uk-a")
    broken = dataclasses.replace(broken, defect="white-list column is bad")
    snap.nodes[("broken", "broken")] = broken
    for policy in (OPEN, CLOSED):
        mt = matcher({}, policy, snap)
        assert mt.node_reason(("broken", "broken")) == (
            "ACaaS record is corrupt: white-list column is bad"
        )
        assert mt.node_reason(("h-uk-a", "h-uk-a")) is None
