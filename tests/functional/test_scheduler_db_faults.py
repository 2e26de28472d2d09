"""The ACaaS database stalls, refuses or returns while nova schedules.

Real MariaDB behind tests/functional/tcpproxy.py; nova's own filter handler
runs ACaaSFilter over nova host states.  With the database stalled or
refusing: every request passes no host (fail closed) and returns, each
logs exactly one error, at most one snapshot load is ever in flight (no
request waits behind another's lock), and the trust records of the refused
requests stay queued.  When the database is back: scheduling resumes
without a restart and every queued record reaches the database (nothing
lost, nothing wrongly trusted).

Waits carry deadlines so that a defect fails instead of hanging; nothing
asserts how fast anything was.
"""

import datetime
import logging
import threading
import time
import uuid

import pytest
import sqlalchemy as sa
from nova import objects
from nova.scheduler import filters as nova_filters
from nova.tests.unit.scheduler import fakes

from acaas_nova import context as acaas_context
from acaas_nova.db import api as db_api
from acaas_nova.db import domains as domains_db
from acaas_nova.db import locations as locations_db
from acaas_nova.db import migration
from acaas_nova.db import nodes as nodes_db
from acaas_nova.scheduler import runtime as runtime_mod
from acaas_nova.scheduler.filters import acaas_filter
from tests.functional import conftest
from tests.functional import databases
from tests.functional import tcpproxy

objects.register_all()

DEADLINE = 60.0
HOSTS = ("c1", "c2")


@pytest.fixture
def mariadb_behind_proxy():
    url, drop = databases.create("mysql")
    direct = conftest.make_conf(url)
    db_api.configure(direct, force=True)
    migration.upgrade()
    ctx = acaas_context.get_admin_context()
    locations_db.location_create(ctx, "UK")
    domains_db.domain_create(ctx, "uk-a", "UK")
    for host in HOSTS:
        nodes_db.node_create(ctx, host, host, domain="uk-a")
        nodes_db.node_set_trust(
            ctx,
            host,
            host,
            "trusted",
            whitelists=("gold",),
            attested_at=datetime.datetime.now(datetime.UTC),
        )
    db_api.dispose()
    server = sa.engine.make_url(url)
    proxy = tcpproxy.TCPProxy(server.host, server.port or 3306)
    proxied = url.replace(
        "@%s:%d/" % (server.host, server.port or 3306),
        "@127.0.0.1:%d/" % proxy.port,
    )
    conf = conftest.make_conf(proxied)
    conf.set_override("db_timeout", 1, group="acaas")
    conf.set_override("snapshot_max_age", 0.0, group="acaas")
    conf.set_override("record_flush_interval", 0.05, group="acaas")
    rt = runtime_mod.Runtime(conf)
    checker = sa.create_engine(url)
    yield rt, proxy, checker
    proxy.forward()
    rt.stop(10)
    proxy.close()
    checker.dispose()
    db_api.dispose()
    drop()


class Scheduler:
    """nova's filter handler with our filter, one RequestSpec per call."""

    def __init__(self, rt):
        self.filter = acaas_filter.ACaaSFilter(runtime=rt)
        self.handler = nova_filters.HostFilterHandler()
        self.uuids = []
        self.placed = []

    def schedule(self):
        instance_uuid = str(uuid.uuid4())
        self.uuids.append(instance_uuid)
        spec = objects.RequestSpec(
            instance_uuid=instance_uuid,
            user_id="alice",
            project_id="pa",
            scheduler_hints={"acaas:whitelist": ["gold"]},
            flavor=objects.Flavor(extra_specs={}),
            num_instances=1,
        )
        hosts = [fakes.FakeHostState(h, h, {}) for h in HOSTS]
        passed = self.handler.get_filtered_objects([self.filter], hosts, spec)
        if passed:
            self.placed.append(instance_uuid)
        return sorted(h.host for h in passed or [])


class LoadProbe:
    """Counts snapshot loads in flight at once (must never exceed one)."""

    def __init__(self, rt):
        self.inner = rt.snapshots._load
        self.lock = threading.Lock()
        self.now = self.most = 0
        rt.snapshots._load = self

    def __call__(self):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            return self.inner()
        finally:
            with self.lock:
                self.now -= 1


def concurrently(scheduler, count):
    results = [None] * count
    barrier = threading.Barrier(count)

    def one(i):
        barrier.wait(DEADLINE)
        results[i] = scheduler.schedule()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE)
        assert not t.is_alive(), "a request did not return"
    return results


def until_scheduling_resumes(scheduler):
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if scheduler.schedule() == list(HOSTS):
            return
        time.sleep(0.2)
    pytest.fail("scheduling did not resume after the database came back")


def request_errors(caplog):
    return [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR
        and r.name == "acaas_nova.scheduler.request"
    ]


def stored_uuids(checker):
    with checker.connect() as conn:
        return set(
            conn.execute(sa.text("SELECT instance_uuid FROM instance_trust"))
            .scalars()
            .all()
        )


@pytest.mark.parametrize("fault", ["stall", "refuse"])
def test_database_fault_fails_closed_and_scheduling_resumes(
    mariadb_behind_proxy, caplog, fault
):
    rt, proxy, checker = mariadb_behind_proxy
    scheduler = Scheduler(rt)
    probe = LoadProbe(rt)
    assert scheduler.schedule() == list(HOSTS)

    getattr(proxy, fault)()
    caplog.clear()
    caplog.set_level(logging.ERROR, logger="acaas_nova")
    results = concurrently(scheduler, 6)
    results.append(scheduler.schedule())
    assert results == [[]] * 7  # nothing wrongly trusted
    errors = request_errors(caplog)
    assert len(errors) == 7  # one clear error per request
    assert all("refusing every host" in e.getMessage() for e in errors)
    assert probe.most == 1  # nobody queued behind another's load

    proxy.forward()
    until_scheduling_resumes(scheduler)
    # Nothing lost: every placed instance's record is in the database
    # (refused ones are not recorded: they never got a host).
    assert rt.recorder.stop(30) == 0
    assert set(scheduler.placed) <= stored_uuids(checker)


def test_records_queue_while_the_database_stalls_and_none_is_lost(
    mariadb_behind_proxy,
):
    rt, proxy, checker = mariadb_behind_proxy
    scheduler = Scheduler(rt)
    assert scheduler.schedule() == list(HOSTS)
    # A snapshot young enough to use: scheduling needs no read now.
    rt.conf.set_override("snapshot_max_age", 3600.0, group="acaas")
    proxy.stall()
    for _ in range(20):
        assert scheduler.schedule() == list(HOSTS)
    assert rt.recorder.pending_count() > 0  # the writer cannot write
    proxy.forward()
    assert rt.recorder.stop(30) == 0
    assert set(scheduler.placed) <= stored_uuids(checker)
    assert len(scheduler.placed) == 21


def test_one_corrupt_row_rejects_only_its_node(mariadb_behind_proxy, caplog):
    rt, proxy, checker = mariadb_behind_proxy
    scheduler = Scheduler(rt)
    with checker.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE compute_nodes SET whitelists = '[\"gold\", oops' "
                "WHERE host = 'c2'"
            )
        )
    caplog.set_level(logging.DEBUG, logger="acaas_nova")
    for _ in range(3):
        assert scheduler.schedule() == ["c1"]
    reason = "c2 (c2) fails ACaaSFilter: ACaaS record is corrupt: white-list"
    assert reason in caplog.text
    assert not [
        r
        for r in caplog.records
        if r.name == "acaas_nova.scheduler.request"
        and r.levelno >= logging.ERROR
    ]
