"""DC-S and DC-C daemons, all real: RabbitMQ, MariaDB/SQLite, swtpm.

The scenario of issue 5 runs in order against one cluster on MariaDB:
five nodes register and become trusted; a file not on the white-list
makes one untrusted within an interval and its domain's DCoT undefined; a
killed DC-C goes unknown after the deadline; a DC-S restart keeps every
registration; a RabbitMQ restart does not stop attestation; a PCR 7
change makes the sealed secret unusable.  Bad RPC input is refused with an
event and nothing stored.  The basic flow also runs on SQLite.
"""

import json
import os
import signal
import subprocess
import time

import oslo_messaging
import pytest

from acaas_nova import context as acaas_context
from acaas_nova import exception
from acaas_nova.attestation import whitelist as whitelist_mod
from acaas_nova.db import api as db_api
from acaas_nova.db import attestation as attestation_db
from acaas_nova.db import domains as domains_db
from acaas_nova.db import events as events_db
from acaas_nova.db import locations as locations_db
from acaas_nova.db import migration
from acaas_nova.db import whitelists as whitelists_db
from acaas_nova.evidence import ima_build
from acaas_nova.tpm import keys
from acaas_nova.tpm.device import TPMDevice
from dc_agents import errors
from dc_agents import messages
from dc_agents import rpc
from dc_agents.dcc import store
from dc_agents.dcs import operatorapi
from dc_agents.dcs import rpcapi as dcs_rpcapi
from tests.functional import databases
from tests.functional import realparts
from tests.functional.conftest import make_conf
from tests.functional.daemons import BIN
from tests.functional.daemons import GOOD_FILES
from tests.functional.daemons import Cluster
from tests.functional.daemons import wait_for
from tests.functional.swtpm import SwtpmFactory
from tests.functional.swtpm import other_swtpm_ca_template  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_ca  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_ca_template  # noqa: F401 (pytest fixtures)

INTERVAL = 1.5
DEADLINE = 2.0
DOMAIN = "rack1"


def _setup_db(url):
    conf = make_conf(url)
    db_api.configure(conf, force=True)
    migration.upgrade()
    ctx = acaas_context.get_admin_context()
    locations_db.location_create(ctx, "lab")
    domains_db.domain_create(ctx, DOMAIN, "lab")
    return ctx


def _whitelist(ctx, boot_line: str) -> None:
    doc = {
        "name": "compute-good",
        "version": "1",
        "digests": {
            path: [ima_build.file_digest(content)]
            for path, content in GOOD_FILES.items()
        },
        "boot_aggregates": [boot_line.split(" ")[3]],
    }
    wl = whitelist_mod.load(doc)
    whitelists_db.whitelist_create(
        ctx, "compute-good", 1, whitelist_mod.dump(wl)
    )


def _start(tmp, url, ca_template, count, domain=DOMAIN, **dcs):
    ca, template = ca_template
    ctx = _setup_db(url)
    factory = SwtpmFactory(tmp / "swtpm", ca, template)
    cluster = Cluster(tmp / "cluster", url, ca.bundle_pem, **dcs)
    cluster.factory = factory
    cluster.ctx = ctx
    try:
        for i in range(count):
            # Unique EKs: the CID is derived from the EK.
            node = cluster.add_node("node%d" % i, factory.new(unique=True))
            node.boot()
        _whitelist(ctx, cluster.nodes["node0"].log.lines[0])
        cluster.start_dcs()
        for name in cluster.nodes:
            cluster.start_dcc(name, domain)
    except BaseException:
        cluster.stop_all()
        factory.stop_all()
        raise
    return cluster


def _reg(cluster, name):
    return attestation_db.registration_get(cluster.ctx, name)


def _status(cluster):
    return {name: _reg(cluster, name).status for name in cluster.nodes}


def _events(cluster, subject=None, event_id=None):
    return [
        e
        for e in events_db.event_list(cluster.ctx, subject, limit=1000)
        if event_id is None or e.event_id == event_id
    ]


def _wait_status(cluster, names, status, timeout, what=""):
    def check():
        try:
            return all(_reg(cluster, n).status == status for n in names)
        except exception.NotFound:
            return False

    try:
        wait_for(check, timeout, what=what or "%s %s" % (names, status))
    except AssertionError:
        logs = "".join(
            "\nDC-C %s log:\n%s" % (name, cluster.log_tail("dcc-" + name))
            for name in names
        )
        raise AssertionError(
            "%s; status %s\nDC-S log:\n%s%s"
            % (what, _status_safe(cluster), cluster.log_tail("dcs"), logs)
        ) from None


def _status_safe(cluster):
    try:
        return _status(cluster)
    except exception.ACaaSException as exc:
        return str(exc)


@pytest.fixture(scope="module")
def mysql_cluster(tmp_path_factory, swtpm_ca_template):  # noqa: F811
    url, drop = databases.create("mysql")
    tmp = tmp_path_factory.mktemp("daemons")
    cluster = _start(tmp, url, swtpm_ca_template, 5)
    yield cluster
    cluster.stop_all()
    cluster.factory.stop_all()
    db_api.dispose()
    drop()


def test_basic_flow_on_sqlite(tmp_path, swtpm_ca_template):  # noqa: F811
    url, drop = databases.create("sqlite")
    cluster = _start(tmp_path, url, swtpm_ca_template, 2)
    try:
        _wait_status(cluster, ["node0", "node1"], "trusted", 60, "trusted")
        reg = _reg(cluster, "node0")
        assert (
            reg.registered and reg.rcot and reg.whitelists == ("compute-good",)
        )
        # The node joins its declared domain right after its trusted
        # status is stored (a second transaction): wait for it.
        wait_for(
            lambda: (
                _reg(cluster, "node0").domain == DOMAIN
                and domains_db.domain_get(cluster.ctx, DOMAIN).dcot
            ),
            10,
            what="node0 in %s with a DCoT" % DOMAIN,
        )
        assert cluster.stop_dcs() == 0  # graceful on SIGTERM
        assert cluster.stop_dcc("node0") == 0
    finally:
        cluster.stop_all()
        cluster.factory.stop_all()
        db_api.dispose()
        drop()


# -- the scenario on MariaDB, in order ---------------------------------------


def test_all_register_and_become_trusted(mysql_cluster):
    cluster = mysql_cluster
    _wait_status(cluster, list(cluster.nodes), "trusted", 90, "all trusted")
    for name in cluster.nodes:
        reg = _reg(cluster, name)
        assert reg.registered and reg.cid and reg.ek_fingerprint
        assert reg.rcot and reg.whitelists == ("compute-good",)
        assert _events(cluster, name, "ACAAS-DCS-020")
    wait_for(
        lambda: (
            domains_db.domain_get(cluster.ctx, DOMAIN).hosts
            == tuple(sorted(cluster.nodes))
        ),
        10,
        what="all nodes in the domain",
    )
    wait_for(
        lambda: domains_db.domain_get(cluster.ctx, DOMAIN).dcot,
        10,
        what="DCoT defined",
    )
    # CIDs are unique and the AK certificates were issued.
    cids = {_reg(cluster, n).cid for n in cluster.nodes}
    assert len(cids) == len(cluster.nodes)


def test_file_not_on_whitelist_makes_node_untrusted(mysql_cluster):
    cluster = mysql_cluster
    node = cluster.nodes["node0"]
    start = time.monotonic()
    node.measure("/usr/local/bin/rootkit", b"not on any white-list")
    # Expected within one interval (plus jitter); the deadline is generous
    # so a loaded machine cannot make the test flaky, and the time taken is
    # printed for the record (no timed assertion).
    _wait_status(cluster, ["node0"], "untrusted", INTERVAL * 3 + 30)
    print("untrusted after %.1f s" % (time.monotonic() - start))
    reg = _reg(cluster, "node0")
    assert not reg.registered  # revoked: must register again
    assert reg.rcot is None and reg.whitelists == ()
    events = _events(cluster, "node0", "ACAAS-ATT-030")
    assert events and "/usr/local/bin/rootkit" in events[0].detail
    # The domain's chains are recomputed right after the node's status is
    # stored (not in the same transaction): wait for them.
    wait_for(
        lambda: (
            (d := domains_db.domain_get(cluster.ctx, DOMAIN)).dcot is None
            and d.cdcot is None
        ),
        10,
        what="DCoT and CDCoT of %s undefined" % DOMAIN,
    )
    # The other nodes stay trusted.
    time.sleep(INTERVAL)
    assert all(
        _reg(cluster, n).status == "trusted"
        for n in ("node1", "node2", "node3", "node4")
    )


def test_untrusted_node_must_register_again(mysql_cluster):
    cluster = mysql_cluster
    # Restarting its DC-C re-enrols the node (same EK, new AK) ...
    cluster.stop_dcc("node0")
    cluster.start_dcc("node0", DOMAIN)
    wait_for(
        lambda: len(_events(cluster, "node0", "ACAAS-DCS-020")) == 2,
        30,
        what="node0 registered again",
    )
    # ... but the unknown file is still in its log: untrusted again.
    _wait_status(cluster, ["node0"], "untrusted", INTERVAL * 1.1 + 5)
    assert len(_events(cluster, "node0", "ACAAS-ATT-030")) == 2


def test_killed_agent_becomes_unknown_then_recovers(mysql_cluster):
    cluster = mysql_cluster
    before = _reg(cluster, "node1")
    cluster.stop_dcc("node1", signal.SIGKILL)
    start = time.monotonic()
    _wait_status(cluster, ["node1"], "unknown", INTERVAL * 1.1 + DEADLINE + 3)
    assert time.monotonic() - start >= DEADLINE * 0.9
    assert _events(cluster, "node1", "ACAAS-DCS-031")
    # Back again: same registration, no re-registration.
    cluster.start_dcc("node1", DOMAIN)
    _wait_status(cluster, ["node1"], "trusted", 30)
    after = _reg(cluster, "node1")
    assert after.cid == before.cid
    assert after.registered_at == before.registered_at
    assert len(_events(cluster, "node1", "ACAAS-DCS-020")) == 1


def _attested_since(cluster, names, since):
    return all(
        _reg(cluster, n).status == "trusted"
        and _reg(cluster, n).last_attested_at.timestamp() > since
        for n in names
    )


def test_dcs_restart_keeps_registrations(mysql_cluster):
    cluster = mysql_cluster
    names = ["node1", "node2", "node3", "node4"]
    before = {n: _reg(cluster, n) for n in names}
    registrations = len(_events(cluster, event_id="ACAAS-DCS-020"))
    assert cluster.stop_dcs() == 0
    restarted = time.time()
    cluster.start_dcs()
    wait_for(
        lambda: _attested_since(cluster, names, restarted),
        INTERVAL * 2 + 10,
        what="attestation after the DC-S restart",
    )
    for n in names:
        after = _reg(cluster, n)
        assert (after.cid, after.registered_at) == (
            before[n].cid,
            before[n].registered_at,
        )
    assert len(_events(cluster, event_id="ACAAS-DCS-020")) == registrations


def _rabbitmqctl(*args):
    return subprocess.run(
        ["rabbitmqctl", *args], capture_output=True, text=True, timeout=120
    )


def test_rabbitmq_restart_attestation_resumes(mysql_cluster):
    cluster = mysql_cluster
    realparts.require_program("rabbitmqctl")
    names = ["node1", "node2", "node3", "node4"]
    try:
        result = _rabbitmqctl("stop_app")
        assert result.returncode == 0, result.stderr
        time.sleep(3)
    finally:
        # Whatever happened, leave the broker running for everyone else.
        result = _rabbitmqctl("start_app")
    assert result.returncode == 0, result.stderr
    restarted = time.time()
    wait_for(
        lambda: _attested_since(cluster, names, restarted),
        90,
        interval=0.5,
        what="attestation after the RabbitMQ restart",
    )


def test_platform_change_breaks_the_seal(mysql_cluster):
    cluster = mysql_cluster
    cluster.nodes["node2"].change_boot_state()
    _wait_status(cluster, ["node2"], "untrusted", INTERVAL * 1.1 + 5)
    events = _events(cluster, "node2", "ACAAS-ATT-051")
    assert events, _events(cluster, "node2")
    assert not _reg(cluster, "node2").registered


def _manage(cluster, *args):
    conf = cluster.write_conf("manage")
    return subprocess.run(
        [str(BIN / "acaas-manage"), "--config-file", str(conf), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_manage_host_attest(mysql_cluster):
    cluster = mysql_cluster
    before = _reg(cluster, "node3").last_attested_at
    result = _manage(cluster, "--format", "json", "host", "attest", "node3")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["status"] == "trusted" and shown["host"] == "node3"
    assert _reg(cluster, "node3").last_attested_at >= before
    # A revoked node: one line on stderr, exit code 2.
    result = _manage(cluster, "host", "attest", "node0")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "not registered" in result.stderr


# -- bad RPC input: refused, an event, nothing stored -------------------------


@pytest.fixture(scope="module")
def dcs_client(mysql_cluster):
    conf = mysql_cluster.client_conf()
    transport = rpc.get_transport(conf)
    yield conf, transport, dcs_rpcapi.DCSAPI(conf, transport, timeout=20)
    transport.cleanup()


@pytest.fixture(scope="module")
def operator_client(mysql_cluster):
    """acaas-manage's client of DC-S's operator target."""
    conf = mysql_cluster.client_conf()
    transport = operatorapi.get_transport(conf)
    yield operatorapi.OperatorAPI(conf, transport, timeout=20)
    transport.cleanup()


def _no_node(cluster, host):
    with pytest.raises(exception.NotFound):
        attestation_db.registration_get(cluster.ctx, host)


def test_oversized_message_refused(mysql_cluster, dcs_client):
    _conf, _transport, api = dcs_client
    with pytest.raises(errors.MessageTooLarge) as info:
        api.register("big", "big", b"x" * 900_000, b"y" * 900_000, b"z")
    assert "exceeds the limit" in info.value.message
    assert "\n" not in info.value.message
    assert _events(mysql_cluster, "big", "ACAAS-DCS-002")
    _no_node(mysql_cluster, "big")


def test_malformed_message_refused(mysql_cluster, dcs_client):
    _conf, _transport, api = dcs_client
    with pytest.raises(errors.MalformedMessage, match="EK public"):
        api.client.call(
            {},
            "register",
            host="garbled",
            hypervisor_hostname="garbled",
            ek_public="%% not base64 %%",
            ek_certificate="",
            ak_public="",
        )
    with pytest.raises(errors.MalformedMessage, match="host"):
        api.client.call({}, "register", host=["not", "a", "string"])
    assert _events(mysql_cluster, "garbled", "ACAAS-DCS-001")
    _no_node(mysql_cluster, "garbled")


def test_unexposed_method_not_callable(dcs_client):
    _conf, _transport, api = dcs_client
    with pytest.raises(oslo_messaging.MessagingException):
        api.client.call({}, "_checked")


def _tpm_evidence(tpm):
    with TPMDevice(tpm.tcti) as dev:
        ek = keys.read_ek(dev, "rsa2048")
        ak = keys.create_ak(dev, "rsa2048", "rsa2048")
    return ek, ak


def test_ek_certificate_from_untrusted_ca_refused(
    mysql_cluster,
    dcs_client,
    tmp_path,
    other_swtpm_ca_template,  # noqa: F811
):
    _conf, _transport, api = dcs_client
    ca, template = other_swtpm_ca_template
    factory = SwtpmFactory(tmp_path, ca, template)
    try:
        ek, ak = _tpm_evidence(factory.new(unique=True))
    finally:
        factory.stop_all()
    with pytest.raises(errors.RegistrationRefused, match="EK certificate"):
        api.register(
            "intruder", "intruder", ek.public, ek.certificate, ak.public
        )
    # ACAAS-ATT-040, or one of its refinements (048: untrusted issuer).
    events = [
        e
        for e in _events(mysql_cluster, "intruder")
        if e.event_id in ("ACAAS-ATT-040", "ACAAS-ATT-048")
    ]
    assert events and events[0].severity == "critical", _events(
        mysql_cluster, "intruder"
    )
    _no_node(mysql_cluster, "intruder")


def test_reregistration_with_another_ek_refused(
    mysql_cluster, dcs_client, tmp_path
):
    _conf, _transport, api = dcs_client
    before = _reg(mysql_cluster, "node3")
    factory = SwtpmFactory(tmp_path, mysql_cluster.factory.ca, None)
    try:
        ek, ak = _tpm_evidence(factory.new(unique=True))
    finally:
        factory.stop_all()
    with pytest.raises(errors.RegistrationRefused, match="another EK"):
        api.register("node3", "node3", ek.public, ek.certificate, ak.public)
    assert _events(mysql_cluster, "node3", "ACAAS-DCS-011")
    after = _reg(mysql_cluster, "node3")
    assert (after.ek_fingerprint, after.cid) == (
        before.ek_fingerprint,
        before.cid,
    )


def test_unregistered_node_refused(mysql_cluster, dcs_client, operator_client):
    _conf, _transport, api = dcs_client
    with pytest.raises(errors.RegistrationRefused, match="session"):
        api.activate("ghost", "ghost", "0" * 32, b"secret")
    with pytest.raises(errors.NotRegistered):
        api.platform_changed("ghost", "ghost", "cid", "made up")
    with pytest.raises(exception.NotFound):
        operator_client.attest_host("ghost")
    # node0 was revoked (untrusted): it cannot be attested until it
    # registers again.
    with pytest.raises(errors.NotRegistered):
        operator_client.attest_host("node0")
    # The agents' target does not serve operator methods at all.
    with pytest.raises(oslo_messaging.RemoteError) as info:
        api.client.call({}, "attest_host", host="node3")
    assert info.value.exc_type == "NoSuchMethod"
    assert _events(mysql_cluster, "ghost", "ACAAS-DCS-011")
    assert _events(mysql_cluster, "ghost", "ACAAS-DCS-010")
    _no_node(mysql_cluster, "ghost")


class _RogueAgent:
    """Answers as node4 with a quote over a nonce DC-S did not send it."""

    target = oslo_messaging.Target(version="1.0")

    def __init__(self, node, ident, other_nonce):
        self.node = node
        self.ident = ident
        self.other_nonce = other_nonce

    @oslo_messaging.expose
    def quote(self, context, nonce=None, selection=None, ima_offset=None):
        with TPMDevice(self.node.swtpm.tcti) as tpm:
            evidence = keys.quote(
                tpm,
                self.ident.ak,
                self.other_nonce,
                {b: list(p) for b, p in selection.items()},
            )
        return messages.quote_answer(
            self.ident.cid,
            evidence.attest,
            evidence.signature,
            evidence.pcrs,
            self.node.log.text(ima_offset),
            ima_offset,
            None,
        )


def test_quote_for_another_nonce_refused(
    mysql_cluster, dcs_client, operator_client
):
    conf, transport, _api = dcs_client
    cluster = mysql_cluster
    _wait_status(cluster, ["node4"], "trusted", 10)
    cluster.stop_dcc("node4")
    node = cluster.nodes["node4"]
    ident = store.load(str(node.state_path))
    # A nonce DC-S issued to another node (as a relaying attacker has it).
    rogue = _RogueAgent(node, ident, os.urandom(32))
    server = rpc.get_server(
        conf, transport, cluster.dcc_topic, "node4", [rogue]
    )
    server.start()
    try:
        # The timer may reach the rogue first; then node4 is already
        # revoked when we ask.
        try:
            result = operator_client.attest_host("node4")
        except errors.NotRegistered:
            result = None
        _wait_status(cluster, ["node4"], "untrusted", INTERVAL + 5)
    finally:
        server.stop()
        server.wait()
    if result is not None:
        assert result["status"] == "untrusted"
        assert "nonce" in result["detail"]
    events = _events(cluster, "node4", "ACAAS-ATT-011")
    assert events and events[0].severity == "critical"
    assert not _reg(cluster, "node4").registered


def test_agent_reports_platform_change_found_at_start(mysql_cluster):
    cluster = mysql_cluster
    _wait_status(cluster, ["node3"], "trusted", 10)
    cluster.stop_dcc("node3")
    cluster.nodes["node3"].change_boot_state()  # while the agent is down
    before = len(_events(cluster, "node3", "ACAAS-ATT-051"))
    cluster.start_dcc("node3", DOMAIN)
    _wait_status(cluster, ["node3"], "untrusted", 30)
    events = _events(cluster, "node3", "ACAAS-ATT-051")
    assert len(events) == before + 1
    assert "PCRs 0,1,2,3,4,5,6,7" in events[0].detail
    assert "Platform of node3 changed" in cluster.log_tail("dcc-node3", 200)
    # The agent keeps running but refuses, also after a restart: only an
    # operator who removes its state lets it register again.
    assert cluster.dcc_procs["node3"].poll() is None
    assert (cluster.nodes["node3"].state_path / "platform-changed").exists()
    registrations = len(_events(cluster, "node3", "ACAAS-DCS-020"))
    assert cluster.stop_dcc("node3") == 0
    cluster.start_dcc("node3", DOMAIN)
    time.sleep(INTERVAL * 2)
    assert cluster.dcc_procs["node3"].poll() is None
    assert len(_events(cluster, "node3", "ACAAS-DCS-020")) == registrations
    assert _reg(cluster, "node3").status == "untrusted"
