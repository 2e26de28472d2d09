"""No first-come host names, with real swtpm, DC-S, DC-C and acaas-manage.

On MariaDB, in order: a DC-C under a host name nobody declared registers
(DC-S verifies its EK and credential) but only awaits approval -- never
attested, trusted or in a domain -- until ``acaas-manage host approve``
makes it trusted within a few intervals, with nothing restarted.  A node
declared with its EK's fingerprint registers; one declared with another
EK is refused with its own event and nothing stored.  What the DC-C says
its domain is never puts it in one: the operator's domain stands.
"""

import json
import subprocess
import time

import pytest

from acaas_nova import exception
from acaas_nova.attestation import registration
from acaas_nova.db import api as db_api
from acaas_nova.db import attestation as attestation_db
from acaas_nova.db import domains as domains_db
from acaas_nova.db import nodes as nodes_db
from acaas_nova.db import pending as pending_db
from acaas_nova.tpm import keys
from acaas_nova.tpm.device import TPMDevice
from tests.functional import databases
from tests.functional.daemons import BIN
from tests.functional.daemons import Cluster
from tests.functional.daemons import wait_for
from tests.functional.swtpm import SwtpmFactory
from tests.functional.swtpm import swtpm_ca  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_ca_template  # noqa: F401 (pytest fixtures)
from tests.functional.test_daemons import DEADLINE
from tests.functional.test_daemons import DOMAIN
from tests.functional.test_daemons import INTERVAL
from tests.functional.test_daemons import _events
from tests.functional.test_daemons import _setup_db
from tests.functional.test_daemons import _wait_status
from tests.functional.test_daemons import _whitelist

OTHER_DOMAIN = "rack2"
#: How soon an approved node must be trusted: DC-S's round runner reads
#: the registered nodes every interval, then a round, its deadline, and
#: slack for a loaded machine.
APPROVED_TRUSTED_WITHIN = 2 * INTERVAL + DEADLINE + 15


def _fingerprint(swtpm):
    with TPMDevice(swtpm.tcti) as dev:
        return registration.ek_fingerprint(keys.read_ek(dev, "rsa2048").public)


def _manage(cluster, *args):
    conf = cluster.write_conf("manage")
    return subprocess.run(
        [str(BIN / "acaas-manage"), "--config-file", str(conf), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, swtpm_ca_template):  # noqa: F811
    url, drop = databases.create("mysql")
    tmp = tmp_path_factory.mktemp("approval")
    ca, template = swtpm_ca_template
    ctx = _setup_db(url)
    domains_db.domain_create(ctx, OTHER_DOMAIN, "lab")
    factory = SwtpmFactory(tmp / "swtpm", ca, template)
    c = Cluster(tmp / "cluster", url, ca.bundle_pem)
    c.factory, c.ctx = factory, ctx
    try:
        for name in ("stranger", "declared", "impostor"):
            c.add_node(name, factory.new(unique=True)).boot()
        _whitelist(ctx, c.nodes["stranger"].log.lines[0])
        c.fingerprints = {
            name: _fingerprint(node.swtpm) for name, node in c.nodes.items()
        }
        c.declare(
            "declared", DOMAIN, ek_fingerprint=c.fingerprints["declared"]
        )
        # Declared for another TPM's EK than the one it has.
        c.declare("impostor", ek_fingerprint=c.fingerprints["declared"])
        c.start_dcs()
        c.start_dcc("stranger", DOMAIN)  # undeclared; asks for rack1
        c.start_dcc("declared", OTHER_DOMAIN)  # the operator said rack1
        c.start_dcc("impostor")
        yield c
    finally:
        c.stop_all()
        factory.stop_all()
        db_api.dispose()
        drop()


def _logs(c, *names):
    return "\nDC-S log:\n%s%s" % (
        c.log_tail("dcs", 60),
        "".join(
            "\nDC-C %s log:\n%s" % (n, c.log_tail("dcc-" + n, 30))
            for n in names
        ),
    )


def _no_node(c, host):
    with pytest.raises(exception.NotFound):
        nodes_db.node_get(c.ctx, host)


def test_undeclared_node_awaits_approval_and_is_never_trusted(cluster):
    c = cluster
    try:
        wait_for(
            lambda: _events(c, "stranger", "ACAAS-DCS-021"),
            60,
            what="registration of stranger awaiting approval",
        )
    except AssertionError as exc:
        raise AssertionError(str(exc) + _logs(c, "stranger")) from None
    event = _events(c, "stranger", "ACAAS-DCS-021")[0]
    assert c.fingerprints["stranger"] in event.detail
    assert "host approve stranger" in event.detail
    wait_for(
        lambda: (
            "awaiting an operator's approval"
            in c.log_tail("dcc-stranger", 100)
        ),
        10,
        what="the DC-C saying it awaits approval",
    )
    # Several intervals later: still no node, never attested or trusted.
    time.sleep(3 * INTERVAL)
    _no_node(c, "stranger")
    assert ("stranger", "stranger") not in attestation_db.registered_nodes(
        c.ctx
    )
    assert not _events(c, "stranger", "ACAAS-DCS-030")
    assert not _events(c, "stranger", "ACAAS-DCS-020")
    assert c.dcc_procs["stranger"].poll() is None  # waits, keeps its key
    assert "stranger" not in domains_db.domain_get(c.ctx, DOMAIN).hosts
    (waiting,) = pending_db.pending_list(c.ctx)
    assert waiting.host == "stranger"
    assert waiting.ek_fingerprint == c.fingerprints["stranger"]


def test_operator_lists_the_pending_registration(cluster):
    result = _manage(cluster, "--format", "json", "host", "pending")
    assert result.returncode == 0, result.stderr
    (shown,) = json.loads(result.stdout)
    assert shown["host"] == "stranger"
    assert shown["ek_fingerprint"] == cluster.fingerprints["stranger"]
    assert shown["ek_subject"] and shown["ek_issuer"]
    assert shown["age"].endswith("ago")
    table = _manage(cluster, "host", "pending")
    assert cluster.fingerprints["stranger"] in table.stdout


def test_approval_makes_it_trusted_without_a_restart(cluster):
    c = cluster
    pid = c.dcc_procs["stranger"].pid
    result = _manage(c, "host", "approve", "stranger")
    assert result.returncode == 0, result.stderr
    assert c.fingerprints["stranger"] in result.stdout
    assert "EK certificate subject" in result.stdout
    approved = time.monotonic()
    _wait_status(
        c,
        ["stranger"],
        "trusted",
        APPROVED_TRUSTED_WITHIN,
        "stranger trusted after approval",
    )
    assert time.monotonic() - approved < APPROVED_TRUSTED_WITHIN
    assert c.dcc_procs["stranger"].pid == pid
    assert c.dcc_procs["stranger"].poll() is None
    node = nodes_db.node_get(c.ctx, "stranger")
    assert node.ek_fingerprint == c.fingerprints["stranger"]
    assert node.expected_ek_fingerprint == node.ek_fingerprint
    assert pending_db.pending_list(c.ctx) == []
    # Its DC-C asked for rack1; only an operator puts nodes in domains.
    assert node.domain is None
    wait_for(
        lambda: _events(c, "stranger", "ACAAS-DCS-042"),
        10,
        what="the declared domain ignored",
    )


def test_declared_node_registers_and_keeps_the_operators_domain(cluster):
    c = cluster
    _wait_status(c, ["declared"], "trusted", 60, "declared trusted")
    assert nodes_db.node_get(c.ctx, "declared").domain == DOMAIN
    assert domains_db.domain_get(c.ctx, OTHER_DOMAIN).hosts == ()
    ignored = _events(c, "declared", "ACAAS-DCS-042")
    assert ignored and OTHER_DOMAIN in ignored[0].detail, ignored
    assert not _events(c, "declared", "ACAAS-DCS-041")


def test_another_ek_than_the_declared_one_is_refused(cluster):
    c = cluster
    wait_for(
        lambda: c.dcc_procs["impostor"].poll() is not None,
        60,
        what="the impostor's DC-C giving up" + _logs(c, "impostor"),
    )
    assert c.dcc_procs["impostor"].returncode == 1
    refused = _events(c, "impostor", "ACAAS-DCS-012")
    assert refused and refused[0].severity == "error"
    assert "declared another EK" in refused[0].detail
    reg = attestation_db.registration_get(c.ctx, "impostor")
    assert not reg.registered and reg.ek_fingerprint is None
    assert [p.host for p in pending_db.pending_list(c.ctx)] == []


def test_approval_refusals(cluster):
    c = cluster
    # Nothing pending under that name: exit 2, one line.
    result = _manage(c, "host", "approve", "nobody")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "Pending registration of nobody not found" in result.stderr
    result = _manage(c, "host", "approve", "x", "--ek-fingerprint", "12ab")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "64 hex digits" in result.stderr
