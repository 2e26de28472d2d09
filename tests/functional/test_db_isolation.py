"""The scheduler's isolation look-up on SQLite, MariaDB and PostgreSQL."""

from acaas_nova.db import instances as instances_db
from acaas_nova.db import isolation
from acaas_nova.db import records


def trust(uuid, user, project, users=(), projects=(), exclusive=False):
    return records.InstanceTrust(
        instance_uuid=uuid,
        project_id=project,
        user_id=user,
        exclude_users=tuple(users),
        exclude_projects=tuple(projects),
        exclusive=exclusive,
    )


def test_blockers_of_one_requester(migrated):
    _conf, ctx = migrated
    for rec in (
        trust("i1", "bob", "pb", users=["alice", "zed"]),
        trust("i2", "dan", "pd", projects=["pa"]),
        trust("i3", "eve", "pe", exclusive=True),
        trust("i4", "fay", "pa", exclusive=True),
        trust("i5", "gus", "pg", users=["alice_x"]),
        trust("i6", "hal", "ph"),
    ):
        instances_db.instance_trust_set(ctx, rec)
    got = isolation.instance_blockers_get(ctx, "alice", "pa")
    assert sorted(r.instance_uuid for r in got) == ["i1", "i2", "i3"]
    # i3 is exclusive to pe itself; i4 to another project.
    got = isolation.instance_blockers_get(ctx, "nobody", "pe")
    assert [r.instance_uuid for r in got] == ["i4"]
