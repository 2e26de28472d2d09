"""DC-S survives faults: all real (MariaDB, RabbitMQ, swtpm, daemons).

DC-S reaches the database and every daemon reaches the broker through
tests/functional/tcpproxy.py, so a test can cut either away and restore
it without touching the shared servers.  In order, against one cluster:

* half-updated chains as a crash leaves them (a node's untrusted status
  committed, its domain's DCoT not recomputed) are repaired by DC-S at
  start, before it serves;
* the database, then the broker, cut away during rounds: attestation
  resumes by itself when they are back, nothing is judged meanwhile;
* a node whose TPM stops answering goes ``unknown``, and ``trusted`` again
  when its TPM answers, with the same registration;
* DC-S SIGKILLed while it records status changes: after its restart every
  node's status, registration, event and domain chains agree.

Each ends with "nothing lost, nothing wrongly trusted".  Waits carry
deadlines and failures show the processes' logs.
"""

import random
import signal
import time

import pytest
import sqlalchemy as sa

from acaas_nova.db import api as db_api
from acaas_nova.db import attestation as attestation_db
from acaas_nova.db import domains as domains_db
from acaas_nova.db import events as events_db
from acaas_nova.evidence import ima_build
from tests.functional import databases
from tests.functional import tcpproxy
from tests.functional.daemons import RABBIT_URL
from tests.functional.daemons import Cluster
from tests.functional.daemons import wait_for
from tests.functional.swtpm import SwtpmFactory
from tests.functional.swtpm import swtpm_ca_template  # noqa: F401 (pytest fixtures)
from tests.functional.test_daemons import DOMAIN
from tests.functional.test_daemons import INTERVAL
from tests.functional.test_daemons import _events
from tests.functional.test_daemons import _reg
from tests.functional.test_daemons import _setup_db
from tests.functional.test_daemons import _status_safe
from tests.functional.test_daemons import _wait_status
from tests.functional.test_daemons import _whitelist

NODES = ("node0", "node1", "node2")
REGISTERED = "ACAAS-DCS-020"
#: trusted, no answer, agent error: what a fault may cause, and its end.
FAULT_EVENTS = ("ACAAS-DCS-030", "ACAAS-DCS-031", "ACAAS-DCS-032")
#: Reconnection after a cut: oslo.messaging's retry interval (2 s at most
#: in daemons.Cluster) and a first failed database use; added to the two
#: intervals of the requirement, with room for a loaded machine.
RECONNECT = 15.0


def _proxied(url: str, port: int) -> str:
    return (
        sa.engine.make_url(url)
        .set(host="127.0.0.1", port=port)
        .render_as_string(hide_password=False)
    )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, swtpm_ca_template):  # noqa: F811
    url, drop = databases.create("mysql")
    tmp = tmp_path_factory.mktemp("dcs-faults")
    ctx = _setup_db(url)
    real = sa.engine.make_url(url)
    db_proxy = tcpproxy.TCPProxy(real.host, real.port or 3306)
    broker = sa.engine.make_url(RABBIT_URL.replace("rabbit://", "mysql://"))
    mq_proxy = tcpproxy.TCPProxy(broker.host, broker.port or 5672)
    mq_url = "rabbit://%s:%s@127.0.0.1:%d/" % (
        broker.username,
        broker.password,
        mq_proxy.port,
    )
    ca, template = swtpm_ca_template
    factory = SwtpmFactory(tmp / "swtpm", ca, template)
    c = Cluster(
        tmp / "cluster",
        _proxied(url, db_proxy.port),
        ca.bundle_pem,
        transport_url=mq_url,
    )
    c.factory, c.ctx, c.db_proxy, c.mq_proxy = factory, ctx, db_proxy, mq_proxy
    try:
        for name in NODES:
            c.add_node(name, factory.new(unique=True)).boot()
        _whitelist(ctx, c.nodes["node0"].log.lines[0])
        c.start_dcs()
        for name in NODES:
            c.declare(name, DOMAIN)
            c.start_dcc(name, DOMAIN)
        yield c
    finally:
        db_proxy.forward()
        mq_proxy.forward()
        c.stop_all()
        factory.stop_all()
        db_proxy.close()
        mq_proxy.close()
        db_api.dispose()
        drop()


def _domain(c):
    return domains_db.domain_get(c.ctx, DOMAIN)


def _all_trusted(c, what, timeout=90):
    _wait_status(c, list(NODES), "trusted", timeout, what)
    wait_for(
        lambda: (d := _domain(c)).hosts == NODES and d.dcot and d.cdcot,
        30,
        what="every node in %s with its chains defined (%s)" % (DOMAIN, what),
    )


def _attested_since(c, names, since):
    regs = [_reg(c, n) for n in names]
    return all(
        r.status == "trusted" and r.last_attested_at.timestamp() > since
        for r in regs
    )


def _wait_attested(c, since, timeout, what):
    try:
        wait_for(
            lambda: _attested_since(c, NODES, since),
            timeout,
            interval=0.25,
            what=what,
        )
    except AssertionError as exc:
        raise AssertionError(
            "%s; status %s\nDC-S log:\n%s"
            % (exc, _status_safe(c), c.log_tail("dcs", 60))
        ) from None
    return time.time() - since


def _consistent(c):
    """Every node's record agrees with itself and with its domain's
    chains (what a crash must never break); returns the statuses."""
    statuses = {}
    for name in NODES:
        r = _reg(c, name)
        statuses[name] = r.status
        if r.status == "trusted":
            assert r.registered and r.rcot and r.whitelists, r
        else:
            assert r.rcot is None and r.whitelists == (), r
        if r.status == "untrusted":
            assert not r.registered, r
            assert _events(c, name, "ACAAS-ATT-030"), _events(c, name)
    d = _domain(c)
    members = [_reg(c, h) for h in d.hosts]
    if any(m.status != "trusted" for m in members) or not members:
        assert d.dcot is None and d.cdcot is None, (d, statuses)
    return statuses


def _reboot(node):
    """The node's TPM was reset (swtpm restarted): the kernel starts a new
    IMA log, and the same files are measured again."""
    node.log = ima_build.LogBuilder(("sha1", "sha256"))
    node.log_path.write_text("")
    node.boot()


def test_all_trusted(cluster):
    _all_trusted(cluster, "start")


def test_chains_half_updated_by_a_crash_are_repaired_at_start(cluster):
    c = cluster
    before = _reg(c, "node0")
    # The state a SIGKILL leaves between the two steps of recording an
    # untrusted outcome: the status (with its revocation) committed, the
    # domain's chains still computed from a trusted node0.  node0's agent
    # is stopped too, so that it cannot register again before we look.
    _all_trusted(c, "before the crash")
    c.stop_dcs(signal.SIGKILL)
    assert c.stop_dcc("node0") == 0
    assert _domain(c).dcot is not None
    with db_api.transaction(c.ctx):  # what DC-S commits in one go
        event = events_db.event_add(
            c.ctx, "node0", "ACAAS-ATT-030", "error", "unknown file (test)"
        )
        saved = attestation_db.attestation_save(
            c.ctx,
            "node0",
            "node0",
            before.cid,
            "untrusted",
            failure_event_id=event,
            revoke=True,
        )
    assert saved == (True, DOMAIN)
    assert _domain(c).dcot is not None  # half-updated
    c.start_dcs()
    # Repaired before DC-S serves: the started line comes after it.
    d = _domain(c)
    assert d.dcot is None and d.cdcot is None, d
    log = c.log_tail("dcs", 400)
    assert "Repaired the chains of domain %s" % DOMAIN in log, log
    assert log.index("Repaired the chains") < log.rindex("acaas-dcs started")
    _consistent(c)
    # Nothing lost: node0 enrols again, everything is trusted again.
    registrations = len(_events(c, "node0", REGISTERED))
    c.start_dcc("node0", DOMAIN)
    _all_trusted(c, "after the repair")
    assert len(_events(c, "node0", REGISTERED)) == registrations + 1
    assert _reg(c, "node0").cid == before.cid  # same EK, same CID


def _cut(c, proxy, what):
    """Cut ``proxy`` for two intervals during rounds, restore it, and
    check attestation resumes by itself with nothing judged meanwhile."""
    regs = {n: _reg(c, n) for n in NODES}
    events = len(_events(c))
    proxy.refuse()
    try:
        time.sleep(INTERVAL * 2 + 1)
    finally:
        proxy.forward()
    restored = time.time()
    took = _wait_attested(
        c,
        restored,
        INTERVAL * 2 + RECONNECT,
        "attestation after the %s came back" % what,
    )
    print("%s back: every node attested again after %.1f s" % (what, took))
    # Nothing lost: the same registrations, no node judged on the fault.
    for n in NODES:
        r = _reg(c, n)
        assert (r.cid, r.registered_at) == (
            regs[n].cid,
            regs[n].registered_at,
        )
    # Unknown meanwhile is allowed (no answer is no proof), nothing else.
    now = _events(c)
    new = now[: len(now) - events]
    bad = [e for e in new if e.event_id not in FAULT_EVENTS]
    assert not bad, bad
    assert _consistent(c) == dict.fromkeys(NODES, "trusted")
    assert _domain(c).dcot


def test_database_cut_during_rounds_attestation_resumes(cluster):
    _all_trusted(cluster, "before the database cut")
    _cut(cluster, cluster.db_proxy, "database")
    assert cluster.dcs_proc.poll() is None


def test_broker_cut_during_rounds_attestation_resumes(cluster):
    _all_trusted(cluster, "before the broker cut")
    _cut(cluster, cluster.mq_proxy, "broker")
    assert cluster.dcs_proc.poll() is None
    assert all(p.poll() is None for p in cluster.dcc_procs.values())


def test_tpm_stops_answering_unknown_then_trusted(cluster):
    c = cluster
    _all_trusted(c, "before the TPM stops")
    node = c.nodes["node1"]
    before = _reg(c, "node1")
    registrations = len(_events(c, "node1", REGISTERED))
    node.swtpm.stop()
    _wait_status(c, ["node1"], "unknown", INTERVAL * 2 + 30, "node1 unknown")
    assert _reg(c, "node1").registered  # not revoked: silence, not proof
    assert _consistent(c)["node1"] == "unknown"
    # The TPM answers again, on the same state (a TPM reset: new log).
    node.swtpm.start()
    _reboot(node)
    _wait_status(c, ["node1"], "trusted", INTERVAL * 2 + 30, "node1 back")
    after = _reg(c, "node1")
    assert (after.cid, after.registered_at) == (
        before.cid,
        before.registered_at,
    )
    assert len(_events(c, "node1", REGISTERED)) == registrations
    assert not _events(c, "node1", "ACAAS-ATT-030")
    _all_trusted(c, "after the TPM came back")
    _consistent(c)


def test_dcs_sigkilled_while_recording_status_changes(cluster):
    c = cluster
    _all_trusted(c, "before the kills")
    rng = random.Random(10)
    node = c.nodes["node2"]
    node.measure("/usr/local/bin/rootkit", b"not on any white-list")
    for _kill in range(4):
        # Somewhere inside the next interval and a half: while node2's
        # untrusted outcome (or its re-registration) is being recorded.
        time.sleep(rng.uniform(0.0, INTERVAL * 1.5))
        c.stop_dcs(signal.SIGKILL)
        c.start_dcs()
        _consistent(c)
    # Nothing wrongly trusted: node2 is untrusted (again after each
    # re-registration), the others trusted, the chains undefined.
    _wait_status(c, ["node2"], "untrusted", INTERVAL * 2 + 30, "node2")
    _wait_status(c, ["node0", "node1"], "trusted", INTERVAL * 2 + 30)
    statuses = _consistent(c)
    assert statuses["node2"] == "untrusted"
    d = _domain(c)
    assert d.dcot is None and d.cdcot is None
    # Nothing lost: every detection of node2 has its event.
    assert _events(c, "node2", "ACAAS-ATT-030")
