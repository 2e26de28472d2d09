"""The in-memory isolation look-up and the overlay of newer records."""

from acaas_nova.db import records
from acaas_nova.scheduler import constraints
from acaas_nova.scheduler import matching
from acaas_nova.scheduler import precedence
from acaas_nova.scheduler import topology
from tests.unit.scheduler import snapshots

ALICE = matching.Requester("alice", "pa", "new")


def rec(uuid, project="px", user="ux", **kw):
    return records.InstanceTrust(uuid, project, user, **kw)


def blockers(index, requester=ALICE):
    found = index.candidates(requester.user_id, requester.project_id)
    return matching.blocking_instances(found, requester)


def test_index_finds_only_records_naming_the_requester():
    index = constraints.ConstraintIndex(
        [
            rec("by-user", exclude_users=("alice",)),
            rec("by-project", exclude_projects=("pa",)),
            rec("other-user", exclude_users=("bob",)),
            rec("excl-other", exclusive=True),
            rec("excl-own", project="pa", exclusive=True),
            rec("plain"),
        ]
    )
    assert set(blockers(index)) == {"by-user", "by-project"}
    # Exclusive instances are looked up per uuid, not listed.
    assert index.exclusive == {"excl-other": "px", "excl-own": "pa"}
    assert index.size == 5 and "plain" not in index


def test_add_replaces_and_remove_forgets():
    index = constraints.ConstraintIndex([rec("x", exclude_users=("alice",))])
    index.add(rec("x", exclude_users=("bob",)))
    assert blockers(index) == {}
    index.add(rec("x", exclusive=True))
    assert index.exclusive == {"x": "px"}
    index.add(rec("x"))  # no longer constrains anybody
    assert "x" not in index and index.exclusive == {}
    index.add(rec("y", exclude_projects=("pa",)))
    index.remove("y")
    assert blockers(index) == {} and index.size == 0


def test_corrupt_record_excludes_everyone_else():
    index = constraints.ConstraintIndex(
        [rec("broken", defect="exclude_users is not valid JSON")]
    )
    got = blockers(index)
    assert "unreadable trust record" in got["broken"]
    own = matching.Requester("ux", "px", "broken")
    assert blockers(index, requester=own) == {}


def test_exclusive_instances_block_other_projects_on_their_host():
    mt = matching.RequestMatcher(
        precedence.resolve({}, {}),
        topology.Topology(snapshots.snapshot()),
        matching.Policy(True, 1e12),
        snapshots.NOW_TS,
        ALICE,
        exclusive=({"e1": "pb"}, {"e2": "pa"}),
    )
    assert mt.checks_occupants
    reason = mt.occupant_reason({"e1", "z"}, set(), set())
    assert reason == "instance e1 on host is exclusive to project pb"
    assert mt.occupant_reason({"e2", "z"}, set(), set()) is None
