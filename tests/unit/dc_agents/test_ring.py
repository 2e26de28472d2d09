"""The consistent hash ring: stable, even, and the same everywhere."""

import pytest

from dc_agents.dcs import ring

KEYS = [ring.node_key("cn%05d" % i, "cn%05d" % i) for i in range(6000)]


def _assignment(members, replicas=64):
    r = ring.Ring(members, replicas)
    return {key: r.owner(key) for key in KEYS}


def _moved(before, after):
    return sum(1 for key in KEYS if before[key] != after[key]) / len(KEYS)


@pytest.mark.parametrize("n", [2, 3, 5, 10])
def test_a_join_moves_about_one_nth_and_only_to_the_newcomer(n):
    members = ["dcs-%d" % i for i in range(n)]
    before = _assignment(members)
    after = _assignment(members + ["dcs-new"])
    moved = _moved(before, after)
    share = 1.0 / (n + 1)
    assert 0.5 * share <= moved <= 2.0 * share, moved
    for key in KEYS:
        if before[key] != after[key]:
            assert after[key] == "dcs-new"


@pytest.mark.parametrize("n", [2, 3, 5, 10])
def test_a_leave_moves_only_the_leavers_keys(n):
    members = ["dcs-%d" % i for i in range(n)]
    before = _assignment(members)
    after = _assignment(members[1:])
    moved = _moved(before, after)
    share = 1.0 / n
    assert 0.5 * share <= moved <= 2.0 * share, moved
    for key in KEYS:
        if before[key] != after[key]:
            assert before[key] == "dcs-0"


def test_every_member_gets_a_fair_share():
    members = ["dcs-%d" % i for i in range(4)]
    counts = {m: 0 for m in members}
    for owner in _assignment(members).values():
        counts[owner] += 1
    for count in counts.values():
        assert 0.5 / 4 <= count / len(KEYS) <= 2.0 / 4, counts


def test_order_of_members_does_not_matter():
    members = ["b", "a", "c"]
    assert _assignment(members) == _assignment(sorted(members))


def test_assignment_is_stable_across_processes():
    # SHA-256 points, not Python's salted hash(): a fixed expectation.
    r = ring.Ring(["dcs-a", "dcs-b"], 64)
    owners = [r.owner(ring.node_key("n%d" % i, "n%d" % i)) for i in range(8)]
    again = ring.Ring(["dcs-b", "dcs-a"], 64)
    assert owners == [
        again.owner(ring.node_key("n%d" % i, "n%d" % i)) for i in range(8)
    ]
    assert set(owners) == {"dcs-a", "dcs-b"}


def test_one_member_owns_everything():
    r = ring.Ring(["alone"])
    assert set(r.share(KEYS[:100], "alone")) == set(KEYS[:100])
    assert list(r.share(KEYS[:100], "other")) == []


def test_empty_ring_owns_nothing():
    assert ring.Ring([]).owner("x") is None
    assert len(ring.Ring([])) == 0


def test_replicas_must_be_positive():
    with pytest.raises(ValueError):
        ring.Ring(["a"], 0)


def test_node_key_separates_host_and_hypervisor():
    assert ring.node_key("a", "bc") != ring.node_key("ab", "c")
