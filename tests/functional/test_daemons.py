"""DC-S and DC-C daemons, all real: RabbitMQ, MariaDB/SQLite, swtpm.

The scenario of issue 5 runs in order against one cluster on MariaDB:
five nodes register and become trusted; a file not on the white-list
makes one untrusted within an interval and its domain's DCoT undefined; a
killed DC-C goes unknown after the deadline; a DC-S restart keeps every
registration; a RabbitMQ restart does not stop attestation; a PCR 7
change makes the sealed secret unusable.  Bad RPC input is refused with an
event and nothing stored.  The basic flow also runs on SQLite.  Last, the
authenticated channel: agent messages without the node's MAC, with a
wrong or replayed one change nothing; round requests DC-S did not make
are not answered; re-registration rotates the key.
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
from acaas_nova.attestation import channel
from acaas_nova.attestation import errors as att_errors
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
from acaas_nova.tpm import seal
from acaas_nova.tpm.device import TPMDevice
from dc_agents import errors
from dc_agents import messages
from dc_agents import rpc
from dc_agents.dcc import rpcapi as dcc_rpcapi
from dc_agents.dcc import store
from dc_agents.dcs import answers
from dc_agents.dcs import operatorapi
from dc_agents.dcs import rounds
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
            cluster.declare(name, domain)
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
        # The operator put the node in its domain; the DCoT is computed
        # right after its trusted status is stored (after the commit).
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


# -- an IMA log larger than one message ---------------------------------------

#: [dcs] max_message_bytes of the chunks cluster, below each log's size.
CHUNKS_MESSAGE = 256 * 1024
#: [dcc] max_log_bytes of the node that sends chunks: at least 5 of them.
CHUNKS_LOG = 100_000


def test_large_ima_log_in_chunks_trusted_and_too_large_unknown(
    tmp_path,
    swtpm_ca_template,  # noqa: F811
):
    """A node with a long log (5,000 entries, larger than DC-S takes in
    one answer) is fetched in chunks and trusted, never untrusted, and
    stays trusted while its log grows; a node whose DC-C sends its whole
    log in one answer larger than DC-S takes is unknown, never untrusted.
    """
    ca, template = swtpm_ca_template
    url, drop = databases.create("sqlite")
    ctx = _setup_db(url)
    factory = SwtpmFactory(tmp_path / "swtpm", ca, template)
    cluster = Cluster(
        tmp_path / "cluster",
        url,
        ca.bundle_pem,
        max_message_bytes=CHUNKS_MESSAGE,
    )
    cluster.ctx = ctx
    good = sorted(GOOD_FILES.items())
    try:
        for name in ("chunked", "whole"):
            node = cluster.add_node(name, factory.new(unique=True))
            node.boot()
            node.measure_many(good[i % len(good)] for i in range(5000))
            size = len(node.log.text())
            assert size > 2 * CHUNKS_MESSAGE and size > 5 * CHUNKS_LOG
        _whitelist(ctx, cluster.nodes["chunked"].log.lines[0])
        cluster.start_dcs()
        cluster.declare("chunked")
        cluster.declare("whole")
        cluster.start_dcc("chunked", max_log_bytes=CHUNKS_LOG)
        cluster.start_dcc("whole", max_log_bytes=4 * 1024 * 1024)
        _wait_status(cluster, ["chunked"], "trusted", 90, "chunked trusted")
        wait_for(
            lambda: _events(cluster, "whole", "ACAAS-DCS-034"),
            60,
            what="the too-large answer of 'whole' refused",
        )
        chunks = (
            (cluster.base / "dcc-chunked.log")
            .read_text(errors="replace")
            .count("more follow")
        )
        assert chunks >= 5, cluster.log_tail("dcc-chunked")
        # The log grows; rounds go on, incremental, in chunks when long.
        # (In batches: one long run of extends keeps the agent's quote
        # from seeing stable PCRs, which makes the node unknown for a
        # round -- the agent's error, never a revocation.)
        node = cluster.nodes["chunked"]
        for _ in range(6):
            node.measure_many(good[i % len(good)] for i in range(250))
            time.sleep(0.2)
        count = len(node.log.lines)
        wait_for(
            lambda: _reg(cluster, "chunked").state["ima"]["count"] >= count,
            60,
            what="the grown log accepted",
        )
        since = time.time()
        wait_for(
            lambda: _attested_since(cluster, ["chunked"], since),
            INTERVAL * 3 + 10,
            what="another round",
        )
        reg = _reg(cluster, "chunked")
        assert reg.registered and reg.status == "trusted"
        # Never untrusted: no verification failure, no revocation (an
        # answer late or refused by the busy TPM is only 'unknown').
        ids = {e.event_id for e in _events(cluster, "chunked")}
        assert ids <= {
            "ACAAS-DCS-020",
            "ACAAS-DCS-030",
            "ACAAS-DCS-031",
            "ACAAS-DCS-032",
        }, ids
        assert len(_events(cluster, "chunked", "ACAAS-DCS-020")) == 1
        # The node whose answers DC-S cannot take: unknown, registered,
        # attested on (not revoked).
        reg = _reg(cluster, "whole")
        assert reg.registered and reg.status == "unknown"
        ids = {e.event_id for e in _events(cluster, "whole")}
        assert ids == {"ACAAS-DCS-020", "ACAAS-DCS-034"}, ids
        detail = _events(cluster, "whole", "ACAAS-DCS-034")[0].detail
        assert "exceeds the limit of %d" % CHUNKS_MESSAGE in detail
    except AssertionError as exc:
        raise AssertionError(
            "%s\nDC-S log:\n%s\nDC-C chunked:\n%s"
            % (exc, cluster.log_tail("dcs"), cluster.log_tail("dcc-chunked"))
        ) from None
    finally:
        cluster.stop_all()
        factory.stop_all()
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
    rpc.cleanup(transport)


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


def test_registration_replaced_by_a_late_duplicate_starts_over(
    mysql_cluster, dcs_client, tmp_path
):
    """An agent whose first step timed out asks again; the late first
    request then replaces the challenge the agent is answering.  The
    activation is refused as RegistrationRetry (event 013), which the
    agent answers by starting over, not by exiting; nothing is stored."""
    _conf, _transport, api = dcs_client
    mysql_cluster.declare("late", DOMAIN)
    factory = SwtpmFactory(tmp_path, mysql_cluster.factory.ca, None)
    try:
        ek, ak = _tpm_evidence(factory.new(unique=True))
    finally:
        factory.stop_all()
    answered = api.register(
        "late", "late", ek.public, ek.certificate, ak.public
    )
    late = api.register("late", "late", ek.public, ek.certificate, ak.public)
    assert late["session"] != answered["session"]
    with pytest.raises(errors.RegistrationRetry, match="session") as info:
        api.activate(
            "late", "late", answered["session"], answered["cid"], b"k" * 32
        )
    assert "must start over" in info.value.message
    assert _events(mysql_cluster, "late", "ACAAS-DCS-013")
    assert _reg(mysql_cluster, "late").cid is None


def test_unregistered_node_refused(mysql_cluster, dcs_client, operator_client):
    _conf, _transport, api = dcs_client
    # Not a permanent refusal: an agent starts over (RegistrationRetry).
    with pytest.raises(errors.RegistrationRetry, match="session"):
        api.activate("ghost", "ghost", "0" * 32, "cid", b"k" * 32)
    with pytest.raises(errors.NotRegistered):
        api.platform_changed("ghost", "ghost", "cid", "made up", b"k" * 32)
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
    assert _events(mysql_cluster, "ghost", "ACAAS-DCS-013")
    assert _events(mysql_cluster, "ghost", "ACAAS-DCS-010")
    _no_node(mysql_cluster, "ghost")


def _channel_key(node, ident):
    """The node's channel key, as its agent unseals it (only possible on
    the node, with its TPM in the registered boot state)."""
    with TPMDevice(node.swtpm.tcti) as tpm:
        secret = seal.unseal(tpm, ident.sealed)
    return channel.derive_key(secret, ident.cid)


class _RogueAgent:
    """Answers as node4 with a quote over a nonce DC-S did not send it (a
    relaying attacker on the node itself: it has the TPM, so the key)."""

    target = oslo_messaging.Target(version="1.2")

    def __init__(self, node, ident, other_nonce):
        self.node = node
        self.ident = ident
        self.other_nonce = other_nonce
        self.key = _channel_key(node, ident)

    @oslo_messaging.expose
    def quote(self, context, nonce=None, selection=None, ima_offset=None, **_):
        with TPMDevice(self.node.swtpm.tcti) as tpm:
            evidence = keys.quote(
                tpm,
                self.ident.ak,
                self.other_nonce,
                {b: list(p) for b, p in selection.items()},
            )
        answer = messages.quote_answer(
            self.ident.cid,
            evidence.attest,
            evidence.signature,
            evidence.pcrs,
            self.node.log.text(ima_offset),
            ima_offset,
            None,
        )
        fresh = messages.decode(nonce, "nonce").hex()
        return channel.sign(self.key, "quote_answer", "node4", fresh, answer)


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


def test_agent_on_a_changed_platform_is_silent(mysql_cluster):
    """An agent that starts on a changed platform cannot unseal its
    channel key, so it cannot speak: DC-S sees silence (unknown), and no
    forged "I am fine" nor an unauthenticated report is possible."""
    cluster = mysql_cluster
    _wait_status(cluster, ["node3"], "trusted", 10)
    before = len(_events(cluster, "node3", "ACAAS-ATT-051"))
    cluster.stop_dcc("node3")
    cluster.nodes["node3"].change_boot_state()  # while the agent is down
    cluster.start_dcc("node3", DOMAIN)
    wait_for(
        lambda: (
            "Platform of node3 changed" in cluster.log_tail("dcc-node3", 200)
        ),
        30,
        what="the agent finding the platform changed",
    )
    _wait_status(cluster, ["node3"], "unknown", INTERVAL + DEADLINE + 10)
    time.sleep(INTERVAL * 2)
    reg = _reg(cluster, "node3")
    assert reg.status == "unknown" and reg.registered
    assert len(_events(cluster, "node3", "ACAAS-ATT-051")) == before
    assert "request ignored" in cluster.log_tail("dcc-node3", 200)
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
    assert _reg(cluster, "node3").status == "unknown"


# -- the authenticated channel --------------------------------------------


def _signed(key, method, node, counter, **args):
    args = dict(args, host=node, hypervisor_hostname=node, counter=counter)
    return channel.sign(key, method, node, counter, args)


def _unchanged(cluster, name, before):
    after = _reg(cluster, name)
    assert after.registered and after.status == "trusted"
    assert (after.cid, after.channel_key) == (before.cid, before.channel_key)


def test_platform_changed_needs_the_nodes_mac(mysql_cluster, dcs_client):
    cluster = mysql_cluster
    _conf, _transport, api = dcs_client
    _wait_status(cluster, ["node1"], "trusted", 30)
    reg = _reg(cluster, "node1")
    key = reg.channel_key  # what only DC-S and node1's TPM holder know
    assert key and len(key) == 32
    report = {"cid": reg.cid, "reason": "forged"}
    count = channel.Counter().next()
    forged = [
        # No MAC at all (today's attacker with the broker URL).
        (
            dict(report, host="node1", hypervisor_hostname="node1"),
            att_errors.ChannelMacMissing,
            "ACAAS-ATT-061",
        ),
        # A MAC under a key of the attacker's.
        (
            _signed(b"a" * 32, "platform_changed", "node1", count, **report),
            att_errors.ChannelMacInvalid,
            "ACAAS-ATT-062",
        ),
        # The right key, but the message changed after signing.
        (
            dict(
                _signed(key, "platform_changed", "node1", count, **report),
                reason="changed",
            ),
            att_errors.ChannelMacInvalid,
            "ACAAS-ATT-062",
        ),
    ]
    for args, error, event in forged:
        before = len(_events(cluster, "node1", event))
        with pytest.raises(error):
            api.client.call({}, "platform_changed", **args)
        assert len(_events(cluster, "node1", event)) == before + 1
        _unchanged(cluster, "node1", reg)
    # A replayed counter: a message DC-S accepted (the agent's status
    # report) and a platform change with the same counter, then a lower.
    status = _signed(key, "registration_status", "node1", count, cid=reg.cid)
    assert api.client.call({}, "registration_status", **status) is True
    for old in (count, count - 1):
        replay = _signed(key, "platform_changed", "node1", old, **report)
        with pytest.raises(att_errors.ChannelReplay):
            api.client.call({}, "platform_changed", **replay)
        _unchanged(cluster, "node1", reg)
    with pytest.raises(att_errors.ChannelReplay):
        api.client.call({}, "registration_status", **status)
    assert len(_events(cluster, "node1", "ACAAS-ATT-063")) == 3
    assert not _events(cluster, "node1", "ACAAS-ATT-051")
    # The node's own key and a fresh counter: accepted (the test above can
    # fail), and the very same message again is refused.
    genuine = _signed(key, "platform_changed", "node1", count + 1, **report)
    result = api.client.call({}, "platform_changed", **genuine)
    assert result["status"] == "untrusted"
    assert len(_events(cluster, "node1", "ACAAS-ATT-051")) == 1
    revoked = _reg(cluster, "node1")
    assert not revoked.registered and revoked.channel_key is None
    with pytest.raises(errors.NotRegistered):
        api.client.call({}, "platform_changed", **genuine)


def test_reregistration_rotates_the_key(mysql_cluster, dcs_client):
    cluster = mysql_cluster
    _conf, _transport, api = dcs_client
    assert _reg(cluster, "node1").channel_key is None  # revoked above
    registrations = len(_events(cluster, "node1", "ACAAS-DCS-020"))
    cluster.stop_dcc("node1")  # (one TPM user at a time)
    ident = store.load(str(cluster.nodes["node1"].state_path))
    old = _channel_key(cluster.nodes["node1"], ident)
    cluster.start_dcc("node1", DOMAIN)
    wait_for(
        lambda: (
            len(_events(cluster, "node1", "ACAAS-DCS-020"))
            == registrations + 1
        ),
        30,
        what="node1 registered again",
    )
    _wait_status(cluster, ["node1"], "trusted", 30)
    # Trusted again: its agent and DC-S share the new key (every round
    # request and answer carries a MAC under it), and it is not the old.
    reg = _reg(cluster, "node1")
    assert reg.channel_key and reg.channel_key != old
    # A message under the old key is refused at once, whatever its counter.
    report = {"cid": reg.cid, "reason": "old key"}
    stale = _signed(old, "platform_changed", "node1", 1 << 62, **report)
    with pytest.raises(att_errors.ChannelMacInvalid):
        api.client.call({}, "platform_changed", **stale)
    status = _signed(old, "registration_status", "node1", 1 << 62, cid=reg.cid)
    with pytest.raises(att_errors.ChannelMacInvalid):
        api.client.call({}, "registration_status", **status)
    _unchanged(cluster, "node1", reg)


class _Collector:
    """Stands for a DC-S worker named "forger": collects the round
    answers (notifications on its answers topic) as sent."""

    def __init__(self):
        self.answers = []

    def __call__(self, entries):
        self.answers.extend(signed for *_rest, signed in entries)


def test_forged_round_request_not_answered(mysql_cluster, dcs_client):
    cluster = mysql_cluster
    conf, transport, _api = dcs_client
    _wait_status(cluster, ["node1"], "trusted", 30)
    key = _reg(cluster, "node1").channel_key
    collector = _Collector()
    server = answers.listener(conf, transport, "forger", collector)
    server.start()
    dcc = dcc_rpcapi.DCCAPI(conf, transport)
    partition = rounds.partition("node1", conf.dcs.round_partitions)
    selection = {"sha256": list(range(11))}

    def request(mac_key):
        nonce = os.urandom(32)
        message = {
            "round_id": os.urandom(8).hex(),
            "nonce": messages.encode(nonce),
            "worker": "forger",
            "selection": selection,
            "asks": {"node1": 0},
        }
        mine = rounds.node_nonce(nonce, "forger", "node1")
        if mac_key is not None:
            ask = {
                "round_id": message["round_id"],
                "worker": "forger",
                "selection": selection,
                "offset": 0,
            }
            message["macs"] = {
                "node1": channel.mac(
                    mac_key, "attest_round", "node1", mine.hex(), ask
                )
            }
        return message, mine

    try:
        for mac_key in (None, b"x" * 32):
            message, _mine = request(mac_key)
            dcc.round(partition, message)
        # Positive control: DC-S's own kind of request is answered (so the
        # silence above is the agent's refusal, not a lost message).
        message, mine = request(key)
        dcc.round(partition, message)
        wait_for(lambda: collector.answers, 30, what="the answer")
        time.sleep(DEADLINE)  # anything else would have arrived by now
        (answer,) = collector.answers
        assert answer["round_id"] == message["round_id"]
        channel.verify(key, "round_answer", "node1", mine.hex(), answer)
        # The same request again (a replay) is not answered either.
        dcc.round(partition, message)
        time.sleep(DEADLINE)
        assert len(collector.answers) == 1
        # Nor is a direct quote call without the MAC (no quote, no TPM).
        with pytest.raises(att_errors.ChannelError):
            dcc.quote("node1", "node1", os.urandom(32), selection, 0, 20)
    finally:
        server.stop()
        server.wait()
    log = cluster.log_tail("dcc-node1", 400)
    assert log.count("attest_round request ignored") >= 3, log
    # Nothing was judged from the forged requests: still registered, and
    # trusted at its next rounds (a broker restart by a concurrent suite
    # may have made it unknown meanwhile).
    assert _reg(cluster, "node1").registered
    _wait_status(cluster, ["node1"], "trusted", 60)
