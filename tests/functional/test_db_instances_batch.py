"""instance_trust_set_many (the write-behind queue's batch) on every backend,
and a corrupt trust row read back as a defective record, not an error."""

import pytest
import sqlalchemy as sa

from acaas_nova.db import api as db_api
from acaas_nova.db import instances
from acaas_nova.db import records
from acaas_nova.db import requirements
from acaas_nova.db import snapshot


@pytest.fixture
def ctx(migrated):
    return migrated[1]


def test_batch_inserts_updates_and_resolves_specifications(ctx):
    requirements.requirement_spec_create(ctx, "pa", "rs1", {"location": "UK"})
    instances.instance_trust_set(
        ctx,
        records.InstanceTrust(
            "old", "pa", "alice", rcot_virtual="v" * 64, exclusive=True
        ),
    )
    batch = [
        records.InstanceTrust("i%03d" % i, "pa", "alice") for i in range(250)
    ]
    batch += [
        records.InstanceTrust("old", "pa", "alice", exclude_users=("bob",)),
        records.InstanceTrust("spec", "pa", "alice", requirement_spec="rs1"),
        # A later record of the same instance in one batch wins.
        records.InstanceTrust("i000", "pa", "alice", exclude_projects=("x",)),
    ]
    instances.instance_trust_set_many(ctx, batch)
    assert instances.instance_trust_get(ctx, "i249") is not None
    assert instances.instance_trust_get(ctx, "i000").exclude_projects == ("x",)
    old = instances.instance_trust_get(ctx, "old")
    assert old.exclude_users == ("bob",) and not old.exclusive
    assert old.rcot_virtual == "v" * 64  # DC-S's value is kept
    with db_api.get_engine().connect() as conn:
        count = conn.execute(
            sa.text("SELECT COUNT(*) FROM instance_trust")
        ).scalar()
        spec_id = conn.execute(
            sa.text(
                "SELECT requirement_spec_id FROM instance_trust "
                "WHERE instance_uuid = 'spec'"
            )
        ).scalar()
    assert count == 252
    assert spec_id is not None
    instances.instance_trust_set_many(ctx, [])  # nothing to do


def test_corrupt_trust_row_reads_as_a_defective_record(ctx):
    instances.instance_trust_set(
        ctx, records.InstanceTrust("bad", "pa", "alice", exclude_users=("b",))
    )
    with db_api.get_engine().begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE instance_trust SET exclude_users = '[\"b\", ' "
                "WHERE instance_uuid = 'bad'"
            )
        )
    snap = snapshot.snapshot_get(ctx)
    (rec,) = snap.instance_constraints
    assert rec.instance_uuid == "bad"
    assert rec.defect == "exclude_users is not valid JSON"
