"""DC-S's attester on SQLite, MariaDB and PostgreSQL, with in-process
agents that quote with a software key (the daemons' end-to-end test with
swtpm and RabbitMQ is test_daemons.py)."""

import oslo_messaging
import pytest

from acaas_nova.attestation import whitelist as whitelist_mod
from acaas_nova.db import attestation as attestation_db
from acaas_nova.db import events as events_db
from acaas_nova.db import whitelists as whitelists_db
from acaas_nova.evidence import ima_build
from dc_agents import messages
from dc_agents.dcs import attester
from dc_agents.dcs import dbwrite
from dc_agents.dcs import state as state_mod
from tests.unit.dc_agents.test_verifier import Node


class Agents:
    """A DCCAPI stand-in: software nodes, or a failure per node."""

    def __init__(self):
        self.nodes = {}
        self.fail = {}
        self.tamper = {}

    def quote(self, host, hv, nonce, selection, ima_offset, timeout):
        if host in self.fail:
            raise self.fail[host]
        answer = self.nodes[host].answer(nonce, ima_offset, cid="cid-" + host)
        wire = messages.quote_answer(
            answer.cid,
            answer.attest,
            answer.signature,
            answer.pcrs,
            answer.ima_log,
            answer.ima_offset,
            None,
        )
        wire.update(self.tamper.get(host, {}))
        return wire


@pytest.fixture
def setup(migrated):
    conf, ctx = migrated
    conf.set_override("max_message_bytes", 20_000, group="dcs")
    dbwrite.configure(conf)
    agents = Agents()
    att = attester.Attester(conf, agents)
    return ctx, agents, att


def _add(ctx, agents, host):
    node = agents.nodes[host] = Node()
    attestation_db.node_register(
        ctx,
        host,
        host,
        "cid-" + host,
        "ek-" + host,
        _ak(node),
        node.ak.name.hex(),
        "PEM",
        state_mod.dump(state_mod.NodeState()),
    )
    return node


def _ak(node):
    from acaas_nova.attestation import tpm_structs as ts
    from acaas_nova.evidence import tpm_build

    return tpm_build.tpm2b_public(node.key.public_key(), scheme=ts.ALG_ECDSA)


def _whitelist(ctx, node, version="1"):
    doc = {
        "name": "good",
        "version": version,
        "digests": {
            "/usr/bin/a": [ima_build.file_digest(b"a")],
            "/usr/bin/b": [ima_build.file_digest(b"b")],
        },
        "boot_aggregates": [node.log.lines[0].split(" ")[3]],
    }
    content = whitelist_mod.dump(whitelist_mod.load(doc))
    whitelists_db.whitelist_create(ctx, "good", int(version), content)


def _ids(ctx, host):
    return [e.event_id for e in events_db.event_list(ctx, host)]


def test_trusted_then_cached_then_untrusted(setup):
    ctx, agents, att = setup
    node = _add(ctx, agents, "n1")
    _whitelist(ctx, node)
    assert att.attest(("n1", "n1"))["status"] == "trusted"
    first = attestation_db.registration_get(ctx, "n1")
    assert first.rcot and first.whitelists == ("good",)
    # Unchanged outcome: the one-UPDATE path, time and state move on.
    node.log.add_file("/usr/bin/a", b"a")
    assert att.attest(("n1", "n1"))["status"] == "trusted"
    second = attestation_db.registration_get(ctx, "n1")
    # (MariaDB DATETIME keeps whole seconds.)
    assert second.last_attested_at >= first.last_attested_at
    assert state_mod.load(second.state).ima_count == 4
    assert _ids(ctx, "n1") == ["ACAAS-DCS-030"]
    # A file on no white-list: untrusted at once, registration revoked.
    node.log.add_file("/tmp/x", b"x")
    result = att.attest(("n1", "n1"))
    assert result["status"] == "untrusted" and "/tmp/x" in result["detail"]
    reg = attestation_db.registration_get(ctx, "n1")
    assert not reg.registered and reg.status == "untrusted"
    assert _ids(ctx, "n1")[0] == "ACAAS-ATT-030"
    assert att.attest(("n1", "n1")) is None  # must register again
    assert not att.timer_job(("n1", "n1"))


def test_no_answer_is_unknown_and_recovers(setup):
    ctx, agents, att = setup
    node = _add(ctx, agents, "n2")
    _whitelist(ctx, node)
    assert att.attest(("n2", "n2"))["status"] == "trusted"
    agents.fail["n2"] = oslo_messaging.MessagingTimeout("late")
    assert att.attest(("n2", "n2"))["status"] == "unknown"
    assert att.attest(("n2", "n2"))["status"] == "unknown"
    assert att.timer_job(("n2", "n2"))  # still scheduled
    assert _ids(ctx, "n2").count("ACAAS-DCS-031") == 1  # on change only
    del agents.fail["n2"]
    assert att.attest(("n2", "n2"))["status"] == "trusted"
    assert attestation_db.registration_get(ctx, "n2").registered


@pytest.mark.parametrize(
    "tamper, event",
    [
        ({"cid": "cid-other"}, "ACAAS-DCS-010"),
        ({"ima_log": "x" * 30_000}, "ACAAS-DCS-002"),
        ({"attest": "%%"}, "ACAAS-DCS-001"),
    ],
)
def test_bad_answers_make_the_node_untrusted(setup, tamper, event):
    ctx, agents, att = setup
    node = _add(ctx, agents, "n3")
    _whitelist(ctx, node)
    agents.tamper["n3"] = tamper
    assert att.attest(("n3", "n3"))["status"] == "untrusted"
    assert _ids(ctx, "n3") == [event]
    reg = attestation_db.registration_get(ctx, "n3")
    assert reg.state == {} and reg.rcot is None


def test_reboot_and_new_whitelist_replay_everything(setup):
    ctx, agents, att = setup
    node = _add(ctx, agents, "n4")
    _whitelist(ctx, node)
    assert att.attest(("n4", "n4"))["status"] == "trusted"
    node.reset_count += 1  # a reboot: the whole log again
    assert att.attest(("n4", "n4"))["status"] == "trusted"
    _whitelist(ctx, node, version="2")
    att.whitelists.ttl = 0  # see the new version at once
    assert att.attest(("n4", "n4"))["status"] == "trusted"
    st = state_mod.load(attestation_db.registration_get(ctx, "n4").state)
    assert {r.version for r in st.satisfied} == {"2"}
