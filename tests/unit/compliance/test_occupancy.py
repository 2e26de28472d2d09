"""Occupancy: rooms, owners and guards per host, before and after moves."""

import pytest

from acaas_nova.compliance import occupancy as occ_mod
from acaas_nova.compliance import planner
from acaas_nova.scheduler import matching
from acaas_nova.scheduler import requirements as reqs_mod

H1, H2, H3 = ("h1", "h1"), ("h2", "h2"), ("h3", "h3")


def _inst(uuid, host, user="u1", project="p1", size=(1,), **hints):
    raw = {"acaas:%s" % k: v for k, v in hints.items()}
    return planner.Tracked(
        uuid=uuid,
        host=host,
        requester=matching.Requester(user, project, uuid),
        requirements=reqs_mod.parse(raw) if raw else reqs_mod.EMPTY,
        size=size,
    )


def test_tracked_may_be_any_iterable_and_groups_keep_their_order():
    tracked = [_inst("a", H1), _inst("b", H2), _inst("c", H1)]
    occ = occ_mod.Occupancy(iter(tracked), {H1: (4,), H2: (4,)})
    assert [i.uuid for i in occ._group(H1)] == ["a", "c"]
    assert occ._group(H3) == []


def test_isolation_both_ways_follows_the_moves():
    loner = _inst("loner", H1, user="alice", exclude_users="bob")
    bob = _inst("bob1", H2, user="bob", project="pb")
    other = _inst("x", H3, user="carol")
    occ = occ_mod.Occupancy(
        [loner, bob, other], {H1: (4,), H2: (4,), H3: (4,)}
    )
    # Bob may not join alice's host; alice may not join Bob's.
    assert occ.isolation_reason(H1, bob) == "instance loner excludes user bob"
    assert occ.isolation_reason(H2, loner) == (
        "runs instances of excluded user bob"
    )
    assert occ.isolation_reason(H1, other) is None
    # Alice moves to h3 (asked about before: its state is updated).
    assert occ.isolation_reason(H3, bob) is None
    occ.move(loner, H3)
    assert occ.isolation_reason(H3, bob) == "instance loner excludes user bob"
    assert occ.isolation_reason(H1, bob) is None
    assert [i.uuid for i in occ._group(H3)] == ["x", "loner"]


def test_exclusive_and_project_exclusion():
    mine = _inst("m", H1, project="pa", isolation="exclusive")
    theirs = _inst("t", H2, project="pb")
    occ = occ_mod.Occupancy([mine, theirs], {})
    assert occ.isolation_reason(H1, theirs) == (
        "instance m is exclusive to project pa"
    )
    assert occ.isolation_reason(H2, mine) == (
        "exclusive: runs instances of another project"
    )
    picky = _inst("p", H3, exclude_projects="pb")
    assert occ.isolation_reason(H2, picky) == (
        "runs instances of excluded project pb"
    )


def test_rooms_and_free_follow_the_moves():
    inst = _inst("a", H1, size=(2, 1024))
    free = {H1: (2, 512), H2: (8, 4096)}
    occ = occ_mod.Occupancy([inst], free)
    assert occ.room(H1) == 2 and occ.room(H3) is None
    assert occ.room_after(H2, (2, 1024)) == 6
    assert occ.room_after(H2, (9, 1)) is None
    assert occ.room_after(H2, (1,)) is None  # shapes differ
    occ.move(inst, H2)
    assert occ.free(H1) == (4, 1536) and occ.free(H2) == (6, 3072)
    assert occ.room(H2) == 6
    entries, failing = occ.rooms([H1, H2, H3], {H1: 10.0, H2: 0.0}, 5.0)
    # h2's attestation deadline has passed; h3 has no deadline.
    assert entries == [(-4, 0, H1)] and failing == [H2, H3]
    assert free == {H1: (2, 512), H2: (8, 4096)}  # input left alone


def test_sizes_of_another_shape_are_refused():
    inst = _inst("a", H1, size=(1, 1))
    occ = occ_mod.Occupancy([inst], {H1: (4,), H2: (4, 4)})
    with pytest.raises(ValueError, match="differ in length"):
        occ.move(inst, H2)
