"""The compliance manager's decisions and durable state, on every backend.

nova is replaced by tests/functional/compliance_fakes.RecordingCloud (it
records requests and answers as the test says); the database is real.
"""

import datetime

import pytest

from acaas_nova.compliance import stored
from acaas_nova.db import compliance as compliance_db
from acaas_nova.db import domains as domains_db
from acaas_nova.db import events as events_db
from acaas_nova.db import instances as instances_db
from acaas_nova.db import locations as locations_db
from acaas_nova.db import nodes as nodes_db
from acaas_nova.db import records
from acaas_nova.scheduler import requirements as reqs_mod
from dc_agents.compliance import manager as manager_mod
from tests.functional import compliance_fakes

#: uk-b: b1 b2; backups uk-a (1), fr-a (2); em-us emergency (3).
HOSTS = {
    "b1": "uk-b",
    "b2": "uk-b",
    "a1": "uk-a",
    "f1": "fr-a",
    "e1": "em-us",
}


def _now():
    return datetime.datetime.now(datetime.UTC)


@pytest.fixture
def world(migrated):
    conf, ctx = migrated
    conf.set_override("retry_backoff", 0, group="compliance")
    for loc in ("UK", "FR", "US"):
        locations_db.location_create(ctx, loc)
    domains_db.domain_create(ctx, "uk-a", "UK")
    domains_db.domain_create(ctx, "uk-b", "UK")
    domains_db.domain_create(ctx, "fr-a", "FR")
    domains_db.domain_create(ctx, "em-us", "US", source="emergency")
    domains_db.backup_add(ctx, "uk-b", "uk-a", 1)
    domains_db.backup_add(ctx, "uk-b", "fr-a", 2)
    domains_db.backup_add(ctx, "uk-b", "em-us", 3)
    for host, dom in HOSTS.items():
        nodes_db.node_create(ctx, host, host, domain=dom)
        set_trust(ctx, host, "trusted")
    cloud = compliance_fakes.RecordingCloud(HOSTS)
    manager = manager_mod.ComplianceManager(conf, cloud, ctx)
    return conf, ctx, cloud, manager


def set_trust(ctx, host, status, age=0):
    nodes_db.node_set_trust(
        ctx,
        host,
        host,
        status,
        whitelists=("gold",),
        attested_at=_now() - datetime.timedelta(seconds=age),
    )


def track(ctx, cloud, uuid, host, user="u1", project="p1", **hints):
    cloud.add_server(uuid, host, user, project)
    raw = {"acaas:%s" % k: v for k, v in hints.items()}
    reqs = reqs_mod.parse(raw, "hint") if raw else reqs_mod.EMPTY
    instances_db.instance_trust_set(
        ctx,
        records.InstanceTrust(
            uuid,
            project,
            user,
            exclude_users=tuple(reqs.exclude_users),
            exclude_projects=tuple(reqs.exclude_projects),
            exclusive=reqs.exclusive,
            requirements=stored.dumps(reqs),
        ),
    )


def _event_ids(ctx, subject):
    return [e.event_id for e in events_db.event_list(ctx, subject=subject)]


def test_untrusted_host_is_fenced_and_its_servers_moved_in_its_domain(world):
    conf, ctx, cloud, manager = world
    track(ctx, cloud, "i1", "b1")
    set_trust(ctx, "b1", "untrusted")
    report = manager.sweep()
    assert report.fenced == ["b1"]
    assert cloud.services["b1"].disabled
    (fenced,) = events_db.event_list(ctx, subject="b1")
    assert fenced.event_id == "ACAAS-CMP-001"
    assert cloud.services["b1"].reason == "ACaaS: untrusted (event %d)" % (
        fenced.id
    )
    assert cloud.migrations == [("i1", "b2", True)]
    cloud.finish_all()
    manager.sweep()
    (action,) = compliance_db.action_list(ctx, kind="migrate")
    assert (action.state, action.destination_host) == ("done", "b2")
    assert "ACAAS-CMP-011" in _event_ids(ctx, "i1")
    # Trusted again: unfenced, because ACaaS fenced it.
    set_trust(ctx, "b1", "trusted")
    assert manager.sweep().unfenced == ["b1"]
    assert not cloud.services["b1"].disabled


def test_full_domain_overflows_to_backups_by_priority_then_stays(world):
    conf, ctx, cloud, manager = world
    for h in ("b2", "a1", "f1"):
        cloud.room[(h, h)] = (1, 16384, 100)
    for n in range(4):
        track(ctx, cloud, "i%d" % n, "b1")
    set_trust(ctx, "b1", "untrusted")
    conf.set_override("max_moves_per_host", 4, group="compliance")
    manager.sweep()
    assert sorted(dest for _, dest, _ in cloud.migrations) == [
        "a1",
        "b2",
        "f1",
    ]
    status = compliance_db.action_list(ctx, states=["stuck"])
    assert len(status) == 1
    assert "no destination" in status[0].error
    assert "em-us" in status[0].error  # emergency not allowed for it
    assert "ACAAS-CMP-013" in _event_ids(ctx, status[0].subject)


def test_emergency_domain_only_for_servers_that_allow_it(world):
    conf, ctx, cloud, manager = world
    for h in ("b2", "a1", "f1"):
        cloud.room[(h, h)] = (0, 0, 0)
    track(ctx, cloud, "ok", "b1", allow_emergency="true")
    track(ctx, cloud, "no", "b1")
    set_trust(ctx, "b1", "untrusted")
    manager.sweep()
    assert cloud.migrations == [("ok", "e1", True)]
    assert [
        a.subject for a in compliance_db.action_list(ctx, states=["stuck"])
    ] == ["no"]


def test_isolation_holds_through_moves(world):
    conf, ctx, cloud, manager = world
    track(
        ctx,
        cloud,
        "mine",
        "b1",
        user="u1",
        project="p1",
        exclude_projects="p2",
    )
    track(ctx, cloud, "theirs", "b2", user="u2", project="p2")
    set_trust(ctx, "b1", "untrusted")
    manager.sweep()
    assert cloud.migrations == [("mine", "a1", True)]


def test_operator_disabled_service_stays_disabled(world):
    conf, ctx, cloud, manager = world
    set_trust(ctx, "b1", "untrusted")
    manager.sweep()
    cloud.services["b1"].reason = "hardware repair (operator)"
    set_trust(ctx, "b1", "trusted")
    manager.sweep()
    assert cloud.services["b1"].disabled
    (unfence,) = compliance_db.action_list(ctx, kind="unfence")
    assert "operator" in unfence.error


def test_breaker_fences_but_moves_nothing_until_resume(world):
    conf, ctx, cloud, manager = world
    track(ctx, cloud, "i1", "b1")
    track(ctx, cloud, "i2", "a1")
    for h in ("b1", "b2", "a1"):  # 60% of the hosts at once
        set_trust(ctx, h, "untrusted")
    report = manager.sweep()
    assert report.breaker_open and report.fenced == ["a1", "b1", "b2"]
    assert cloud.migrations == []
    assert "ACAAS-CMP-020" in _event_ids(ctx, "compliance")
    assert manager.sweep().breaker_open and cloud.migrations == []
    compliance_db.flag_set(
        ctx, compliance_db.BREAKER, compliance_db.BREAKER_CLOSED
    )
    manager.sweep()
    # i1 goes to uk-b's second backup; uk-a has no backup domain at all.
    assert cloud.migrations == [("i1", "f1", True)]
    stuck = compliance_db.action_list(ctx, states=["stuck"])
    assert [a.subject for a in stuck] == ["i2"]


def test_restart_in_the_middle_of_a_migration_never_issues_it_twice(world):
    conf, ctx, cloud, manager = world
    track(ctx, cloud, "i1", "b1")
    set_trust(ctx, "b1", "untrusted")
    manager.sweep()
    assert len(cloud.migrations) == 1
    # A new DC-S (same database) while nova is still migrating.
    again = manager_mod.ComplianceManager(conf, cloud, ctx)
    again.sweep()
    again.sweep()
    assert len(cloud.migrations) == 1
    cloud.finish_all()
    again.sweep()
    assert [
        a.state for a in compliance_db.action_list(ctx, kind="migrate")
    ] == ["done"]


def test_crash_before_nova_was_asked_is_reconciled_as_a_retry(world):
    conf, ctx, cloud, manager = world
    track(ctx, cloud, "i1", "b1")
    action, _ = compliance_db.action_open(
        ctx, "migrate", "i1", "host b1 untrusted", "b1", "b2", "same-domain"
    )
    # DC-S marked it running, then died before calling nova.
    compliance_db.action_update(ctx, action.id, "running", count_attempt=True)
    set_trust(ctx, "b1", "untrusted")
    manager.sweep()
    assert cloud.migrations == [("i1", "b2", True)]
    (row,) = compliance_db.action_list(ctx, kind="migrate")
    assert (row.state, row.attempts) == ("running", 2)


def test_failed_moves_are_retried_then_reported_stuck(world):
    conf, ctx, cloud, manager = world
    conf.set_override("max_attempts", 2, group="compliance")
    track(ctx, cloud, "i1", "b1")
    set_trust(ctx, "b1", "untrusted")
    cloud.fail_migrations = True
    manager.sweep()
    manager.sweep()
    (row,) = compliance_db.action_list(ctx, kind="migrate")
    assert row.state == "stuck" and "HTTP 500" in row.error
    assert "ACAAS-CMP-012" in _event_ids(ctx, "i1")


def test_live_migration_refused_falls_back_to_cold(world):
    conf, ctx, cloud, manager = world
    cloud.refuse_live = True
    track(ctx, cloud, "i1", "b1")
    set_trust(ctx, "b1", "untrusted")
    manager.sweep()
    assert cloud.migrations == [("i1", "b2", False)]


def test_concurrency_limits(world):
    conf, ctx, cloud, manager = world
    conf.set_override("max_moves_per_host", 1, group="compliance")
    for n in range(3):
        track(ctx, cloud, "i%d" % n, "b1")
    set_trust(ctx, "b1", "untrusted")
    manager.sweep()
    assert len(cloud.migrations) == 1
    cloud.finish_all()
    manager.sweep()
    assert len(cloud.migrations) == 2


def test_unknown_host_waits_out_its_grace(world):
    conf, ctx, cloud, manager = world
    conf.set_override("unknown_grace", 600, group="compliance")
    track(ctx, cloud, "i1", "b1")
    set_trust(ctx, "b1", "unknown", age=60)
    assert manager.sweep().fenced == [] and cloud.migrations == []
    set_trust(ctx, "b1", "unknown", age=900)
    assert manager.sweep().fenced == ["b1"]
    assert cloud.migrations == [("i1", "b2", True)]


def test_server_created_before_acaas_is_tracked_and_moved(world):
    conf, ctx, cloud, manager = world
    cloud.add_server("old", "b1")  # no ACaaS record of it at all
    set_trust(ctx, "b1", "untrusted")
    manager.sweep()
    assert cloud.migrations == [("old", "b2", True)]


def test_maintenance_drains_to_backups(world):
    conf, ctx, cloud, manager = world
    track(ctx, cloud, "i1", "b1")
    track(ctx, cloud, "i2", "b2")
    compliance_db.maintenance_set(ctx, "uk-b", True)
    manager.sweep()
    assert sorted(d for _, d, _ in cloud.migrations) == ["a1", "a1"]
    assert manager.sweep().fenced == []


def test_dry_run_changes_nothing(world):
    conf, ctx, cloud, manager = world
    track(ctx, cloud, "i1", "b1")
    set_trust(ctx, "b1", "untrusted")
    report = manager.sweep(dry_run=True)
    assert [
        (m.instance_uuid, m.destination[0]) for m in report.plan.moves
    ] == [("i1", "b2")]
    assert cloud.migrations == [] and not cloud.services["b1"].disabled
    assert compliance_db.action_list(ctx) == []
