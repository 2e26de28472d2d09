"""The pure parts of schedule explain."""

import pytest

from acaas_nova import exception
from acaas_nova.scheduler import explain
from acaas_nova.scheduler import matching
from acaas_nova.scheduler import precedence
from acaas_nova.scheduler import topology
from tests.unit.scheduler import snapshots


def test_parse_hints_lists_repeated_keys():
    got = explain.parse_hints(
        ["acaas:location=UK", "acaas:location=FR", "a=b"]
    )
    assert got == {"acaas:location": ["UK", "FR"], "a": ["b"]}


@pytest.mark.parametrize("item", ["novalue", "=x", "k="])
def test_parse_hints_malformed(item):
    with pytest.raises(exception.Invalid, match="malformed hint"):
        explain.parse_hints([item])


def test_judge_gives_every_host_and_preference():
    snap = snapshots.snapshot(
        nodes=list(snapshots.snapshot().nodes.values())
        + [snapshots.node("h-bad", "fr-a", status="untrusted")]
    )
    reqs = precedence.resolve(
        {"acaas:location": "FR", "acaas:max_distance": "5"}, {}
    )
    verdicts, preferred = explain.judge(
        topology.Topology(snap),
        reqs,
        matching.Policy(True, 1e12),
        snapshots.NOW_TS,
    )
    by_host = {v.host: v.verdict for v in verdicts}
    assert by_host["h-fr-a"] == "pass"
    assert by_host["h-uk-a"] == "pass"
    assert by_host["h-bad"] == "attestation status is untrusted"
    assert "emergency" in by_host["h-em-us"]
    assert preferred[0] == "h-fr-a"
    assert set(preferred) == {"h-fr-a", "h-uk-a", "h-uk-b"}
