"""The in-memory isolation look-up and its merge with queued records."""

from acaas_nova.db import records
from acaas_nova.scheduler import constraints
from acaas_nova.scheduler import matching

ALICE = matching.Requester("alice", "pa", "new")


def rec(uuid, project="px", user="ux", **kw):
    return records.InstanceTrust(uuid, project, user, **kw)


def blockers(index, overlay=None, requester=ALICE):
    found = index.candidates(requester.user_id, requester.project_id, overlay)
    return matching.blocking_instances(found, requester)


def test_index_finds_exclusions_of_user_project_and_exclusive():
    index = constraints.ConstraintIndex(
        [
            rec("by-user", exclude_users=("alice",)),
            rec("by-project", exclude_projects=("pa",)),
            rec("other-user", exclude_users=("bob",)),
            rec("excl-other", exclusive=True),
            rec("excl-own", project="pa", exclusive=True),
        ]
    )
    assert set(blockers(index)) == {"by-user", "by-project", "excl-other"}
    assert index.size == 5


def test_overlay_adds_and_replaces_records():
    index = constraints.ConstraintIndex([rec("old", exclude_users=("alice",))])
    overlay = {
        # The newer record of "old" no longer excludes alice.
        "old": rec("old", exclude_users=("bob",)),
        "queued": rec("queued", exclusive=True),
        "plain": rec("plain"),
    }
    assert set(blockers(index, overlay)) == {"queued"}


def test_corrupt_record_excludes_everyone_else():
    index = constraints.ConstraintIndex(
        [rec("broken", defect="exclude_users is not valid JSON")]
    )
    got = blockers(index)
    assert "unreadable trust record" in got["broken"]
    own = matching.Requester("ux", "px", "broken")
    assert blockers(index, requester=own) == {}
