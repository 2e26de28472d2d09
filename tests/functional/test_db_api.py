"""The DB API against real databases (SQLite, MariaDB, PostgreSQL)."""

import datetime

import pytest

from acaas_nova import exception
from acaas_nova.db import domains
from acaas_nova.db import events
from acaas_nova.db import instances
from acaas_nova.db import locations
from acaas_nova.db import nodes
from acaas_nova.db import records
from acaas_nova.db import requirements
from acaas_nova.db import snapshot
from acaas_nova.db import whitelists


@pytest.fixture
def ctx(migrated):
    return migrated[1]


def _world(ctx):
    locations.location_create(ctx, "UK")
    locations.location_create(ctx, "FR")
    locations.location_create(ctx, "DE")
    locations.distance_set(ctx, "UK", "FR", 3)
    locations.distance_set(ctx, "DE", "FR", 2)
    domains.domain_create(ctx, "d1", "UK", capabilities={"gpu": "yes"})
    domains.domain_create(ctx, "d2", "FR", capabilities={"gpu": "yes"})
    domains.domain_create(
        ctx,
        "fed",
        "DE",
        source=records.SOURCE_EMERGENCY,
        capabilities={"gpu": "no"},
    )
    domains.backup_add(ctx, "d1", "d2", 1)
    nodes.node_create(ctx, "h1", domain="d1")
    nodes.node_create(ctx, "h2", "h2.hv", compute_node_uuid="u-2", domain="d2")


def test_distance_is_symmetric_and_updatable(ctx):
    _world(ctx)
    assert locations.distance_get(ctx, "FR", "UK") == 3
    locations.distance_set(ctx, "FR", "UK", 4)
    assert locations.distance_get(ctx, "UK", "FR") == 4
    assert locations.distance_get(ctx, "UK", "DE") is None
    assert locations.distance_get(ctx, "UK", "UK") == 0
    assert [
        (d.location_a, d.location_b)
        for d in locations.distance_list(ctx, "FR")
    ] == [("FR", "DE"), ("FR", "UK")]


def test_distance_rejects_self_negative_unknown(ctx):
    _world(ctx)
    with pytest.raises(exception.Invalid, match="itself"):
        locations.distance_set(ctx, "UK", "UK", 1)
    with pytest.raises(exception.Invalid, match="negative"):
        locations.distance_set(ctx, "UK", "DE", -1)
    with pytest.raises(exception.NotFound, match="Location XX"):
        locations.distance_set(ctx, "UK", "XX", 1)


def test_backup_rules(ctx):
    _world(ctx)
    with pytest.raises(exception.Invalid, match="itself"):
        domains.backup_add(ctx, "d1", "d1", 2)
    with pytest.raises(exception.Duplicate):
        domains.backup_add(ctx, "d1", "d2", 5)
    with pytest.raises(exception.Conflict, match="capability gpu"):
        domains.backup_add(ctx, "d1", "fed", 2)
    with pytest.raises(exception.Conflict, match="capability gpu"):
        domains.domain_update(ctx, "d2", set_capabilities={"gpu": "no"})
    # nothing half-written: d2 keeps its capability
    assert domains.domain_get(ctx, "d2").capabilities == {"gpu": "yes"}
    assert domains.domain_get(ctx, "d1").backups == (
        records.Backup("d1", "d2", 1),
    )
    domains.backup_remove(ctx, "d1", "d2")
    with pytest.raises(exception.NotFound):
        domains.backup_remove(ctx, "d1", "d2")


def test_priority_unique_per_domain(ctx):
    _world(ctx)
    domains.domain_create(ctx, "d3", "UK", capabilities={"gpu": "yes"})
    with pytest.raises(exception.Conflict, match="priority 1"):
        domains.backup_add(ctx, "d1", "d3", 1)


def test_domain_delete_with_hosts_refused(ctx):
    _world(ctx)
    with pytest.raises(exception.Conflict, match="still has 1 host"):
        domains.domain_delete(ctx, "d1")
    nodes.node_set_domain(ctx, "h1", None, None)
    domains.domain_delete(ctx, "d1")
    with pytest.raises(exception.NotFound):
        domains.domain_get(ctx, "d1")


def test_trust_and_snapshot(ctx):
    _world(ctx)
    nodes.property_add(ctx, "h1", None, "rack", "r1")
    now = datetime.datetime.now(datetime.UTC)
    nodes.node_set_trust(
        ctx,
        "h1",
        None,
        records.TRUST_TRUSTED,
        whitelists=("gold", "base"),
        rcot="ab" * 32,
        attested_at=now,
    )
    snap = snapshot.snapshot_get(ctx)
    h1 = snap.nodes[("h1", "h1")]
    assert h1.status == "trusted"
    assert h1.whitelists == ("base", "gold")
    assert h1.properties == {"rack": "r1"}
    assert abs((h1.last_attested_at - now).total_seconds()) < 1
    assert snap.nodes[("h2", "h2.hv")].status == "unknown"
    assert snap.domains["d1"].backups[0].backup == "d2"
    assert snap.domains["fed"].source == "emergency"
    assert snap.distances[("FR", "UK")] == 3
    assert snap.locations == {"UK", "FR", "DE"}


def test_node_identity(ctx):
    _world(ctx)
    assert nodes.node_get(ctx, "h2").hypervisor_hostname == "h2.hv"
    assert nodes.node_get(ctx, "h2", "h2.hv").compute_node_uuid == "u-2"
    with pytest.raises(exception.Duplicate):
        nodes.node_create(ctx, "h2", "h2.hv")
    with pytest.raises(exception.NotFound, match="Host nope"):
        nodes.node_get(ctx, "nope")


def test_requirement_spec_user_overrides_project(ctx):
    requirements.requirement_spec_create(ctx, "p", "rs", {"location": "UK"})
    requirements.requirement_spec_create(
        ctx, "p", "rs", {"location": "FR"}, user_id="u"
    )
    assert requirements.requirement_spec_get(ctx, "p", "rs", "u").values == {
        "location": "FR"
    }
    assert requirements.requirement_spec_get(ctx, "p", "rs", "v").values == {
        "location": "UK"
    }
    with pytest.raises(exception.Duplicate):
        requirements.requirement_spec_create(ctx, "p", "rs", {})
    with pytest.raises(exception.InvalidRequirement, match="no such"):
        requirements.requirement_spec_create(ctx, "p", "x", {"colour": "r"})
    # the failed create wrote nothing
    with pytest.raises(exception.NotFound):
        requirements.requirement_spec_get(ctx, "p", "x")


def test_instance_constraints(ctx):
    instances.instance_trust_set(
        ctx, records.InstanceTrust("i1", "p1", "u1", exclude_users=("u2",))
    )
    instances.instance_trust_set(
        ctx, records.InstanceTrust("i2", "p2", "u2", exclusive=True)
    )
    instances.instance_trust_set(ctx, records.InstanceTrust("i3", "p3", "u3"))
    found = {r.instance_uuid for r in instances.instance_constraints_list(ctx)}
    assert found == {"i1", "i2"}
    instances.instance_trust_set(ctx, records.InstanceTrust("i1", "p1", "u1"))
    found = {r.instance_uuid for r in instances.instance_constraints_list(ctx)}
    assert found == {"i2"}


def test_whitelist_versions_and_events(ctx):
    whitelists.whitelist_create(ctx, "gold", "2026.10", '{"v": 1}')
    whitelists.whitelist_create(ctx, "gold", "2026.9", '{"v": 2}')
    whitelists.whitelist_create(ctx, "base", "1", "{}")
    # newest means imported last, whatever the version string says
    assert whitelists.whitelist_get(ctx, "gold").version == "2026.9"
    assert [(w.name, w.version) for w in whitelists.whitelist_latest(ctx)] == [
        ("base", "1"),
        ("gold", "2026.9"),
    ]
    with pytest.raises(exception.Duplicate):
        whitelists.whitelist_create(ctx, "gold", "2026.9", "{}")
    whitelists.whitelist_delete(ctx, "gold", "2026.9")
    assert whitelists.whitelist_get(ctx, "gold").version == "2026.10"
    assert whitelists.whitelist_get(ctx, "gold", "2026.10").content == (
        '{"v": 1}'
    )
    first = events.event_add(ctx, "node:h1", "ACAAS-ATT-010", "critical", "x")
    second = events.event_add(ctx, "node:h1", "ACAAS-ATT-000", "info", "y")
    assert [e.id for e in events.event_list(ctx, "node:h1")] == [second, first]
    with pytest.raises(exception.Invalid):
        events.event_add(ctx, "s", "e", "loud", "z")


def test_node_list_in_a_few_queries_equals_one_by_one(ctx, monkeypatch):
    """node_list loads properties, domains and last failures for all
    rows at once (a constant number of statements, whatever the number
    of nodes) and gives what node_get gives for each."""
    _world(ctx)
    nodes.property_add(ctx, "h1", "h1", "tpm", "2.0")
    nodes.property_add(ctx, "h2", "h2.hv", "tpm", "1.2")
    nodes.property_add(ctx, "h2", "h2.hv", "sgx", "yes")
    failure = events.event_add(ctx, "h2", "ACAAS-ATT-011", "error", "nonce")
    nodes.node_set_trust(
        ctx, "h2", "h2.hv", records.TRUST_UNTRUSTED, failure_event_id=failure
    )
    monkeypatch.setattr(nodes, "LIST_CHUNK", 1)  # chunks are joined
    for n in range(3, 13):
        nodes.node_create(ctx, "h%02d" % n, domain="d1")
    statements = []
    from sqlalchemy import event as sa_event

    engine = nodes.api.context_manager.writer.get_engine()

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        listed = nodes.node_list(ctx)
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    # Rows, properties, domains, and the one failure (chunks of 1).
    assert len(statements) == 4, statements
    assert listed == [
        nodes.node_get(ctx, n.host, n.hypervisor_hostname) for n in listed
    ]
    h2 = next(n for n in listed if n.host == "h2")
    assert h2.properties == {"tpm": "1.2", "sgx": "yes"}
    assert h2.domain == "d2" and h2.last_failure == "ACAAS-ATT-011: nonce"
    assert [n.host for n in nodes.node_list(ctx, domain="d2")] == ["h2"]
    assert nodes.status_counts(ctx) == {
        records.TRUST_UNKNOWN: 11,
        records.TRUST_UNTRUSTED: 1,
    }
