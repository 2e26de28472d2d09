"""DC-S's attester on SQLite, MariaDB and PostgreSQL, with in-process
agents that quote with a software key (the daemons' end-to-end test with
swtpm and RabbitMQ is test_daemons.py)."""

import oslo_messaging
import pytest

from acaas_nova.attestation import channel
from acaas_nova.attestation import errors as att_errors
from acaas_nova.attestation import whitelist as whitelist_mod
from acaas_nova.db import attestation as attestation_db
from acaas_nova.db import events as events_db
from acaas_nova.db import nodes as nodes_db
from acaas_nova.db import whitelists as whitelists_db
from acaas_nova.evidence import ima_build
from dc_agents import messages
from dc_agents.dcs import attester
from dc_agents.dcs import dbwrite
from dc_agents.dcs import state as state_mod
from tests.unit.dc_agents.test_verifier import Node


def key_of(host):
    """The channel key of a test node (as registration derives it)."""
    return channel.derive_key(host.encode() * 4, "cid-" + host)


class Agents:
    """A DCCAPI stand-in: software nodes, or a failure per node; answers
    carry the node's MAC (``forge``: a MAC under another key)."""

    def __init__(self):
        self.nodes = {}
        self.fail = {}
        self.tamper = {}
        self.forge = set()
        self.keys = {}  # the key a node signs with, if not DC-S's
        self.chunk = {}  # entries per answer, if the log is sent in chunks
        self.asked = []  # (host, nonce, offset) of every quote request

    def quote(self, host, hv, nonce, selection, ima_offset, timeout, key):
        self.asked.append((host, nonce, ima_offset))
        if host in self.fail:
            raise self.fail[host]
        wire = self.answer(host, nonce, ima_offset)
        if host in self.forge:
            key = b"f" * 32
        key = self.keys.get(host, key)
        return channel.sign(key, "quote_answer", host, nonce.hex(), wire)

    def answer(self, host, nonce, ima_offset):
        answer = self.nodes[host].answer(
            nonce, ima_offset, cid="cid-" + host, count=self.chunk.get(host)
        )
        wire = messages.quote_answer(
            answer.cid,
            answer.attest,
            answer.signature,
            answer.pcrs,
            answer.ima_log,
            answer.ima_offset,
            None,
            ima_more=answer.ima_more,
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
    nodes_db.node_create(ctx, host, host)
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
        channel_key=key_of(host),
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
        ({"attest": "%%"}, "ACAAS-DCS-001"),
        ({"ima_more": 1}, "ACAAS-DCS-001"),
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


# -- an IMA log larger than one message: chunks ------------------------------


def _grow(node, count):
    """``count`` more white-listed entries (about 130 bytes each)."""
    for i in range(count):
        name = "ab"[i % 2]
        node.log.add_file("/usr/bin/" + name, name.encode())


def _log_bytes(node, start=0):
    return len(node.log.text(start))


def test_log_in_chunks_is_trusted_and_never_untrusted(setup):
    ctx, agents, att = setup
    node = _add(ctx, agents, "k1")
    _whitelist(ctx, node)
    _grow(node, 400)
    # The whole log does not fit in one answer ([dcs] max_message_bytes
    # is 20,000 here): 60 entries an answer.
    assert _log_bytes(node) > 2 * att.conf.dcs.max_message_bytes
    agents.chunk["k1"] = 60
    assert att.attest(("k1", "k1"))["status"] == "trusted"
    asked = [a for a in agents.asked if a[0] == "k1"]
    assert [a[2] for a in asked] == [0, 60, 120, 180, 240, 300, 360]
    assert len({a[1] for a in asked}) == len(asked)  # a nonce each
    reg = attestation_db.registration_get(ctx, "k1")
    assert reg.registered and reg.whitelists == ("good",)
    assert state_mod.load(reg.state).ima_count == 403
    assert _ids(ctx, "k1") == ["ACAAS-DCS-030"]
    # The log grows: incremental again, in chunks when it is long.
    _grow(node, 100)
    del agents.asked[:]
    assert att.attest(("k1", "k1"))["status"] == "trusted"
    assert [a[2] for a in agents.asked] == [403, 463]
    assert att.attest(("k1", "k1"))["status"] == "trusted"
    assert _ids(ctx, "k1") == ["ACAAS-DCS-030"]


@pytest.mark.parametrize(
    "limits",
    [{"max_ima_log_bytes": 20_000}, {"max_log_chunks": 3}],
)
def test_log_beyond_the_limits_is_unknown_not_untrusted(setup, limits):
    ctx, agents, att = setup
    node = _add(ctx, agents, "k2")
    _whitelist(ctx, node)
    _grow(node, 400)
    agents.chunk["k2"] = 60
    for name, value in limits.items():
        att.conf.set_override(name, value, group="dcs")
    try:
        result = att.attest(("k2", "k2"))
    finally:
        for name in limits:
            att.conf.clear_override(name, group="dcs")
    assert result["status"] == "unknown", result
    assert "IMA log of k2" in result["detail"]
    reg = attestation_db.registration_get(ctx, "k2")
    assert reg.registered and reg.status == "unknown"
    assert _ids(ctx, "k2") == ["ACAAS-DCS-034"]
    assert att.attest(("k2", "k2"))["status"] == "trusted"


def test_answer_larger_than_dcs_takes_is_unknown_not_untrusted(setup):
    ctx, agents, att = setup
    node = _add(ctx, agents, "k3")
    _whitelist(ctx, node)
    _grow(node, 400)  # in one answer: more than max_message_bytes
    result = att.attest(("k3", "k3"))
    assert result["status"] == "unknown" and "exceeds" in result["detail"]
    reg = attestation_db.registration_get(ctx, "k3")
    assert reg.registered and reg.status == "unknown"
    assert _ids(ctx, "k3") == ["ACAAS-DCS-034"]
    assert att.timer_job(("k3", "k3"))  # still attested
    agents.chunk["k3"] = 60  # an agent that sends chunks
    assert att.attest(("k3", "k3"))["status"] == "trusted"


@pytest.mark.parametrize(
    "content, name, event",
    [
        # An entry the TPM never extended, consistent in itself: the last
        # answer's replay does not reach its PCR 10.
        (b"b", "/usr/bin/a", "ACAAS-ATT-020"),
        # A template hash that does not match the entry: refused at once.
        (b"a", "/usr/bin/b", "ACAAS-ATT-021"),
    ],
)
def test_forged_log_in_chunks_is_still_untrusted(setup, content, name, event):
    from acaas_nova.evidence import ima_build

    ctx, agents, att = setup
    node = _add(ctx, agents, "k4")
    _whitelist(ctx, node)
    _grow(node, 200)
    agents.chunk["k4"] = 60
    line = ima_build.format_entry(
        "ima-ng", ima_build.file_digest(content), "/usr/bin/a"
    )
    node.log.lines[70] = line.replace("/usr/bin/a", name)  # second chunk
    result = att.attest(("k4", "k4"))
    assert result["status"] == "untrusted", result
    assert _ids(ctx, "k4") == [event]
    assert not attestation_db.registration_get(ctx, "k4").registered


def test_partial_round_answer_is_followed_up_at_once(setup):
    import datetime

    from dc_agents.dcs import rounds
    from dc_agents.dcs import verifier

    ctx, agents, att = setup
    node = _add(ctx, agents, "k5")
    _whitelist(ctx, node)
    assert att.attest(("k5", "k5"))["status"] == "trusted"
    _grow(node, 300)
    agents.chunk["k5"] = 60
    book = rounds.RoundBook("w1", 30.0)
    ask, answer = _round(att, ctx, agents, "k5", book)
    assert answer["ima_more"] and ask.offset == 3
    progress = att.round_answer(ctx, ask, answer, None, Recorder(ctx))
    assert isinstance(progress, verifier.Progress)
    assert progress.next_entry == 63
    # Nothing recorded yet.
    assert attestation_db.registration_get(ctx, "k5").status == "trusted"
    del agents.asked[:]
    batch = Recorder(ctx)
    result = att.follow_up(ctx, ask, progress, batch)
    assert result["status"] == "trusted"
    assert [a[2] for a in agents.asked] == [63, 123, 183, 243]
    # Unchanged outcome: batched like any round's, with the new state.
    (item,) = batch.items.values()
    assert item[3] is not None
    batch.flush(datetime.datetime.now(datetime.UTC))
    stored = state_mod.load(attestation_db.registration_get(ctx, "k5").state)
    assert stored.ima_count == 303
    # A follow-up overtaken by another attestation records nothing.
    _grow(node, 100)
    ask, answer = _round(att, ctx, agents, "k5", book)
    progress = att.round_answer(ctx, ask, answer, None, Recorder(ctx))
    assert att.attest(("k5", "k5"))["status"] == "trusted"
    assert att.follow_up(ctx, ask, progress) is attester.SUPERSEDED
    # A follow-up stops between two chunks when DC-S stops.
    _grow(node, 100)
    ask, answer = _round(att, ctx, agents, "k5", book)
    progress = att.round_answer(ctx, ask, answer, None, Recorder(ctx))
    del agents.asked[:]
    assert att.follow_up(ctx, ask, progress, None, lambda: True) is (
        attester.SUPERSEDED
    )
    assert agents.asked == []
    assert _ids(ctx, "k5") == ["ACAAS-DCS-030"]


# -- the round path: answers to rounds, batched writes ----------------------


class Recorder:
    """A BatchWriter stand-in that writes through attestation_touch_many
    when flushed (the real writer's thread is tested in unit tests)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.items = {}

    def add(self, key, item):
        self.items[key] = item

    def flush(self, at):
        items, self.items = list(self.items.values()), {}
        return attestation_db.attestation_touch_many(self.ctx, items, at)


def _round(att, ctx, agents, host, book):
    from dc_agents.dcs import rounds

    key = (host, host)
    snapshot, offset, full = att.round_ask(ctx, key)
    round_id, _r, (ask,) = book.open([(key, host, offset, full, snapshot)])
    answer = agents.answer(host, ask.nonce, ask.offset)
    claimed = book.claim(round_id, host)
    assert claimed is ask
    with pytest.raises(rounds.RoundRefused):
        book.claim(round_id, host)  # single use
    return ask, answer


def test_round_answers_batch_unchanged_outcomes(setup):
    import datetime

    from dc_agents.dcs import rounds

    ctx, agents, att = setup
    node = _add(ctx, agents, "r1")
    _whitelist(ctx, node)
    book = rounds.RoundBook("w1", 30.0)
    batch = Recorder(ctx)
    ask, answer = _round(att, ctx, agents, "r1", book)
    # First outcome: a change, written at once (not batched).
    result = att.round_answer(ctx, ask, answer, None, batch)
    assert result["status"] == "trusted" and not batch.items
    first = attestation_db.registration_get(ctx, "r1")
    assert first.status == "trusted"
    # Unchanged: batched, nothing written until the flush.
    ask, answer = _round(att, ctx, agents, "r1", book)
    assert att.round_answer(ctx, ask, answer, None, batch)["status"] == (
        "trusted"
    )
    (item,) = batch.items.values()
    assert item[:3] == ("r1", "r1", "cid-r1") and item[3] is None
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    assert batch.flush(later) == []
    after = attestation_db.registration_get(ctx, "r1")
    assert after.last_attested_at > first.last_attested_at
    # New IMA entries: material, the state is stored with the time.
    node.log.add_file("/usr/bin/b", b"b")
    ask, answer = _round(att, ctx, agents, "r1", book)
    att.round_answer(ctx, ask, answer, None, batch)
    (item,) = batch.items.values()
    assert item[3] is not None
    batch.flush(later)
    stored = state_mod.load(attestation_db.registration_get(ctx, "r1").state)
    assert stored.ima_count == 4
    assert _ids(ctx, "r1") == ["ACAAS-DCS-030"]


def test_round_answer_over_another_nonce_is_untrusted(setup):
    from dc_agents.dcs import rounds

    ctx, agents, att = setup
    node = _add(ctx, agents, "r2")
    _whitelist(ctx, node)
    book = rounds.RoundBook("w1", 30.0)
    ask, _answer = _round(att, ctx, agents, "r2", book)
    other = agents.answer("r2", b"x" * 32, ask.offset)
    result = att.round_answer(ctx, ask, other, None, Recorder(ctx))
    assert result["status"] == "untrusted" and "nonce" in result["detail"]
    assert not attestation_db.registration_get(ctx, "r2").registered


def test_round_errors_and_expiry(setup):
    from dc_agents.dcs import rounds

    ctx, agents, att = setup
    node = _add(ctx, agents, "r3")
    _whitelist(ctx, node)
    book = rounds.RoundBook("w1", 30.0)
    ask, answer = _round(att, ctx, agents, "r3", book)
    att.round_answer(ctx, ask, answer, None, Recorder(ctx))
    ask, _a = _round(att, ctx, agents, "r3", book)
    result = att.round_answer(
        ctx, ask, None, ("agent_error", "TPM busy"), Recorder(ctx)
    )
    assert result["status"] == "unknown"
    ask, _a = _round(att, ctx, agents, "r3", book)
    assert att.round_expired(ctx, ask)["status"] == "unknown"
    ask, answer = _round(att, ctx, agents, "r3", book)
    assert att.round_answer(ctx, ask, answer, None, Recorder(ctx))[
        "status"
    ] == ("trusted")
    ask, _a = _round(att, ctx, agents, "r3", book)
    result = att.round_answer(
        ctx, ask, None, ("platform_changed", "PCRs differ"), Recorder(ctx)
    )
    assert result["status"] == "untrusted"
    assert "ACAAS-ATT-051" in _ids(ctx, "r3")


def test_touch_many_skips_nodes_changed_elsewhere(setup):
    import datetime

    ctx, agents, att = setup
    for host in ("t1", "t2", "t3"):
        node = _add(ctx, agents, host)
    _whitelist(ctx, node)
    for host in ("t1", "t2", "t3"):
        assert att.attest((host, host))["status"] == "trusted"
    agents.tamper["t2"] = {"attest": "%%"}
    att.attest(("t2", "t2"))  # untrusted: revoked
    at = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=2)
    missed = attestation_db.attestation_touch_many(
        ctx,
        [
            ("t1", "t1", "cid-t1", {"bank": "sha256"}),
            ("t2", "t2", "cid-t2", None),
            ("t3", "t3", "cid-other", None),
        ],
        at,
    )
    assert sorted(missed) == [("t2", "t2"), ("t3", "t3")]
    t1 = attestation_db.registration_get(ctx, "t1")
    assert t1.state == {"bank": "sha256"}
    assert t1.last_attested_at.replace(tzinfo=None) >= at.replace(
        tzinfo=None, microsecond=0
    )
    assert attestation_db.registration_get(ctx, "t3").last_attested_at < (
        t1.last_attested_at
    )


def test_preload_reads_every_registration_at_once(setup):
    ctx, agents, att = setup
    for host in ("p1", "p2"):
        node = _add(ctx, agents, host)
    _whitelist(ctx, node)
    assert att.attest(("p1", "p1"))["status"] == "trusted"
    fresh = attester.Attester(att.conf, agents)
    assert sorted(fresh.preload(ctx)) == [("p1", "p1"), ("p2", "p2")]
    for host in ("p1", "p2"):
        assert fresh._registrations[(host, host)] == (
            attestation_db.registration_get(ctx, host)
        )
    # Preloaded, p1 takes the unchanged path at once.
    assert fresh.attest(("p1", "p1"))["status"] == "trusted"
    assert _ids(ctx, "p1") == ["ACAAS-DCS-030"]


def test_round_answer_overtaken_by_attest_host_is_dropped(setup):
    from dc_agents.dcs import rounds

    ctx, agents, att = setup
    node = _add(ctx, agents, "r4")
    _whitelist(ctx, node)
    book = rounds.RoundBook("w1", 30.0)
    ask, answer = _round(att, ctx, agents, "r4", book)
    att.round_answer(ctx, ask, answer, None, Recorder(ctx))
    ask, early = _round(att, ctx, agents, "r4", book)  # quoted first...
    assert att.attest(("r4", "r4"))["status"] == "trusted"  # ...judged 2nd
    result = att.round_answer(ctx, ask, early, None, Recorder(ctx))
    assert result is attester.SUPERSEDED
    assert attestation_db.registration_get(ctx, "r4").status == "trusted"


class RoundAPI:
    """DCCAPI.round stand-in: delivers every asked node's answer to the
    runner at once (the agents of a partition answering a fanout)."""

    def __init__(self, agents):
        self.agents = agents
        self.runner = None
        self.sent = []
        self.answers = []
        self.silent = set()

    def round(self, partition, message):
        from dc_agents.dcs import rounds

        self.sent.append((partition, message))
        nonce = messages.decode(message["nonce"], "nonce")
        for node, offset in message["asks"].items():
            if node in self.silent:
                continue
            mine = rounds.node_nonce(nonce, message["worker"], node)
            # DC-C's check of the request's MAC.
            request = {
                "round_id": message["round_id"],
                "worker": message["worker"],
                "selection": message["selection"],
                "offset": offset,
                "mac": message["macs"][node],
            }
            channel.verify(
                key_of(node), "attest_round", node, mine.hex(), request
            )
            answer = self.agents.answer(node, mine, offset)
            key = b"f" * 32 if node in self.agents.forge else key_of(node)
            signed = channel.sign(
                key,
                "round_answer",
                node,
                mine.hex(),
                {
                    "host": node,
                    "hypervisor_hostname": node,
                    "round_id": message["round_id"],
                    "answer": answer,
                    "error": None,
                },
            )
            entry = (message["round_id"], (node, node), answer, None, signed)
            self.answers.append(entry)
            self.runner.answer(*entry)


def _wait(predicate, what, timeout=30.0):
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.05)


def test_round_runner_end_to_end(setup):
    from dc_agents.dcs import roundrunner
    from dc_agents.dcs import rounds

    ctx, agents, att = setup
    conf = att.conf
    conf.set_override("attestation_interval", 3600, group="dcs")
    conf.set_override("attestation_deadline", 1.0, group="dcs")
    conf.set_override("round_partitions", 3, group="dcs")
    conf.set_override("batch_write_interval", 0.05, group="dcs")
    hosts = ["rr%d" % i for i in range(6)]
    for host in hosts:
        node = _add(ctx, agents, host)
    _whitelist(ctx, node)
    api = RoundAPI(agents)
    runner = roundrunner.RoundRunner(conf, att, api, "w1")
    api.runner = runner
    runner.start()
    try:
        for host in hosts:
            runner.add((host, host))
        assert len(runner) == 6 and ("rr0", "rr0") in runner
        parts = {rounds.partition(h, 3) for h in hosts}

        def status(host):
            return attestation_db.registration_get(ctx, host).status

        for p in parts:
            runner._round_job(p)
        assert len(api.sent) == len(parts)  # one message per partition
        _wait(lambda: all(status(h) == "trusted" for h in hosts), "trust")
        _wait(lambda: not runner._recording, "the first outcomes recorded")
        # Unchanged outcomes: batched.
        for p in parts:
            runner._round_job(p)
        _wait(lambda: runner.batch.written >= 6, "the batched writes")
        jobs = runner.stats.jobs
        # Replaying answers already judged changes nothing.
        for entry in api.answers[-6:]:
            runner.answer(*entry)
        runner._answers.put((roundrunner._SWEEP, runner.book.clock()))
        _wait(lambda: runner._answers.empty(), "the replays")
        assert all(status(h) == "trusted" for h in hosts)
        assert runner.stats.jobs == jobs
        # A node that does not answer becomes unknown at the deadline.
        api.silent.add("rr1")
        runner._round_job(rounds.partition("rr1", 3))
        _wait(lambda: status("rr1") == "unknown", "rr1 unknown")
        assert "ACAAS-DCS-031" in _ids(ctx, "rr1")
    finally:
        runner.stop()


def test_round_runner_skips_asks_another_thread_opened_meanwhile(setup):
    """A registration's trigger and the wheel's round may both find a node
    not yet asked; the later one must send nothing (it raised IndexError
    on the empty round, failing the agent's registration)."""
    from dc_agents.dcs import roundrunner

    ctx, agents, att = setup
    conf = att.conf
    conf.set_override("attestation_interval", 3600, group="dcs")
    node = _add(ctx, agents, "race0")
    _whitelist(ctx, node)
    api = RoundAPI(agents)
    runner = roundrunner.RoundRunner(conf, att, api, "w1")
    api.runner = runner
    real_open = runner.book.open

    def open_after_the_other_thread(asks):
        asks = list(asks)
        real_open(asks)  # the other thread's round got there first
        return real_open(asks)

    runner.book.open = open_after_the_other_thread
    runner.start()
    try:
        runner.trigger(("race0", "race0"))
        assert api.sent == []
        assert runner.book.is_open(("race0", "race0"))
    finally:
        runner.stop()


def test_round_runner_picks_up_nodes_registered_elsewhere(setup):
    from dc_agents.dcs import roundrunner
    from dc_agents.dcs import rounds

    ctx, agents, att = setup
    conf = att.conf
    conf.set_override("round_partitions", 2, group="dcs")
    hosts = ["pu%d" % i for i in range(6)]
    for host in hosts:
        node = _add(ctx, agents, host)
    _whitelist(ctx, node)
    api = RoundAPI(agents)
    runner = roundrunner.RoundRunner(conf, att, api, "w1", partitions=[0])
    api.runner = runner
    mine = sorted(h for h in hosts if rounds.partition(h, 2) == 0)
    assert runner.refresh(ctx) == len(mine)  # each asked at once
    assert sorted(k[0] for p in runner.members for k in runner.members[p])
    assert {k[0] for k in runner.members[0]} == set(mine)
    assert runner.refresh(ctx) == 0
    assert not runner.members[1]


# -- the authenticated channel ------------------------------------------------


def test_answer_without_the_nodes_mac_is_ignored_not_judged(setup):
    ctx, agents, att = setup
    node = _add(ctx, agents, "c1")
    _whitelist(ctx, node)
    assert att.attest(("c1", "c1"))["status"] == "trusted"
    # Another consumer on the node's queue answers (a valid quote even,
    # but no MAC under the node's key): not judged, the node is unknown.
    agents.forge.add("c1")
    result = att.attest(("c1", "c1"))
    assert result["status"] == "unknown" and "wrong MAC" in result["detail"]
    reg = attestation_db.registration_get(ctx, "c1")
    assert reg.registered and reg.status == "unknown"
    assert "ACAAS-ATT-062" in _ids(ctx, "c1")
    agents.forge.discard("c1")
    assert att.attest(("c1", "c1"))["status"] == "trusted"


def test_unauthenticated_platform_change_reply_does_not_revoke(setup):
    ctx, agents, att = setup
    node = _add(ctx, agents, "c2")
    _whitelist(ctx, node)
    assert att.attest(("c2", "c2"))["status"] == "trusted"
    agents.fail["c2"] = att_errors.PlatformChanged(reason="forged reply")
    assert att.attest(("c2", "c2"))["status"] == "unknown"
    assert attestation_db.registration_get(ctx, "c2").registered


def test_platform_changed_counter_is_single_use(setup):
    ctx, agents, att = setup
    node = _add(ctx, agents, "c3")
    _whitelist(ctx, node)
    assert att.attest(("c3", "c3"))["status"] == "trusted"
    key = key_of("c3")
    assert attestation_db.channel_accept(ctx, "c3", "c3", "cid-c3", key, 10)
    assert not attestation_db.channel_accept(
        ctx, "c3", "c3", "cid-c3", key, 10
    )
    exc = att_errors.PlatformChanged(reason="PCR 7")
    for replayed in (10, 9):
        with pytest.raises(att_errors.ChannelReplay):
            att.revoke(ctx, "c3", "c3", "cid-c3", exc, (key, replayed))
        reg = attestation_db.registration_get(ctx, "c3")
        assert reg.registered and reg.status == "trusted"
        assert "ACAAS-ATT-051" not in _ids(ctx, "c3")  # rolled back
    # Another key (an old one after re-registration): not accepted.
    with pytest.raises(att_errors.ChannelReplay):
        att.revoke(ctx, "c3", "c3", "cid-c3", exc, (b"o" * 32, 11))
    assert attestation_db.registration_get(ctx, "c3").status == "trusted"
    result = att.revoke(ctx, "c3", "c3", "cid-c3", exc, (key, 11))
    assert result["status"] == "untrusted"
    reg = attestation_db.registration_get(ctx, "c3")
    assert not reg.registered and reg.channel_key is None
    assert _ids(ctx, "c3").count("ACAAS-ATT-051") == 1


def test_two_workers_given_the_same_message_revoke_once(setup):
    import threading

    ctx, agents, att = setup
    node = _add(ctx, agents, "c4")
    _whitelist(ctx, node)
    assert att.attest(("c4", "c4"))["status"] == "trusted"
    workers = [att, attester.Attester(att.conf, agents)]
    exc = att_errors.PlatformChanged(reason="PCR 7")
    barrier = threading.Barrier(2)
    outcomes = []

    def deliver(worker):
        from acaas_nova import context as acaas_context

        barrier.wait()
        try:
            outcomes.append(
                worker.revoke(
                    acaas_context.get_admin_context(),
                    "c4",
                    "c4",
                    "cid-c4",
                    exc,
                    (key_of("c4"), 42),
                )
            )
        except att_errors.ChannelReplay:
            outcomes.append("replay")

    threads = [threading.Thread(target=deliver, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    revoked = [o for o in outcomes if isinstance(o, dict)]
    assert len(outcomes) == 2 and len(revoked) == 1, outcomes
    assert _ids(ctx, "c4").count("ACAAS-ATT-051") == 1


def test_reregistration_rotates_the_key(setup):
    ctx, agents, att = setup
    node = _add(ctx, agents, "c5")
    _whitelist(ctx, node)
    assert att.attest(("c5", "c5"))["status"] == "trusted"
    old = key_of("c5")
    assert attestation_db.channel_accept(ctx, "c5", "c5", "cid-c5", old, 5)
    new = channel.derive_key(b"another secret", "cid-c5")
    attestation_db.node_register(
        ctx,
        "c5",
        "c5",
        "cid-c5",
        "ek-c5",
        _ak(node),
        node.ak.name.hex(),
        "PEM",
        state_mod.dump(state_mod.NodeState()),
        channel_key=new,
    )
    att.forget("c5", "c5")  # what the registrar's callback does
    assert attestation_db.registration_get(ctx, "c5").channel_key == new
    # The old key stops at once, whatever its counter; the new one works
    # from 1 (its counter starts again).
    assert not attestation_db.channel_accept(ctx, "c5", "c5", "cid-c5", old, 6)
    assert attestation_db.channel_accept(ctx, "c5", "c5", "cid-c5", new, 1)
    # An agent still answering under the old key is not heard.
    agents.keys["c5"] = old
    result = att.attest(("c5", "c5"))
    assert result["status"] == "unknown", result
    assert "ACAAS-ATT-062" in _ids(ctx, "c5")


def test_round_answer_with_a_forged_mac_is_ignored(setup):
    from dc_agents.dcs import roundrunner
    from dc_agents.dcs import rounds

    ctx, agents, att = setup
    conf = att.conf
    conf.set_override("attestation_interval", 3600, group="dcs")
    conf.set_override("attestation_deadline", 1.0, group="dcs")
    conf.set_override("round_partitions", 1, group="dcs")
    node = _add(ctx, agents, "c6")
    _whitelist(ctx, node)
    api = RoundAPI(agents)
    runner = roundrunner.RoundRunner(conf, att, api, "w1")
    api.runner = runner
    runner.start()
    try:
        runner.add(("c6", "c6"))

        def status():
            return attestation_db.registration_get(ctx, "c6").status

        runner._round_job(0)
        _wait(lambda: status() == "trusted", "c6 trusted")
        _wait(lambda: not runner._recording, "c6 recorded")
        # A forged answer first, then the node's own: the forged one is
        # ignored (it does not use up the ask), the real one is judged.
        agents.forge.add("c6")
        api.silent.add("c6")
        runner._round_job(0)
        (_p, message) = api.sent[-1]
        api.silent.discard("c6")
        nonce = messages.decode(message["nonce"], "nonce")
        mine = rounds.node_nonce(nonce, "w1", "c6")
        answer = agents.answer("c6", mine, message["asks"]["c6"])

        def signed(key):
            return channel.sign(
                key,
                "round_answer",
                "c6",
                mine.hex(),
                {
                    "host": "c6",
                    "hypervisor_hostname": "c6",
                    "round_id": message["round_id"],
                    "answer": answer,
                    "error": None,
                },
            )

        forged = signed(b"f" * 32)
        runner.answer(message["round_id"], ("c6", "c6"), answer, None, forged)
        unsigned = {k: v for k, v in forged.items() if k != "mac"}
        runner.answer(
            message["round_id"], ("c6", "c6"), answer, None, unsigned
        )
        _wait(
            lambda: {"ACAAS-ATT-061", "ACAAS-ATT-062"} <= set(_ids(ctx, "c6")),
            "the refusal events",
        )
        assert runner.book.is_open(("c6", "c6"))  # still waiting
        jobs = runner.stats.jobs
        runner.answer(
            message["round_id"],
            ("c6", "c6"),
            answer,
            None,
            signed(key_of("c6")),
        )
        _wait(lambda: runner.stats.jobs == jobs + 1, "the real answer")
        assert status() == "trusted"
        # Forged answers only, and the node is unknown at the deadline,
        # never untrusted.
        agents.forge.add("c6")
        runner._round_job(0)
        _wait(lambda: status() == "unknown", "c6 unknown")
        assert attestation_db.registration_get(ctx, "c6").registered
    finally:
        runner.stop()


def test_round_runner_fetches_chunked_logs(setup):
    from dc_agents.dcs import roundrunner

    ctx, agents, att = setup
    conf = att.conf
    conf.set_override("attestation_interval", 3600, group="dcs")
    conf.set_override("attestation_deadline", 5.0, group="dcs")
    conf.set_override("round_partitions", 1, group="dcs")
    conf.set_override("batch_write_interval", 0.05, group="dcs")
    hosts = ["kr0", "kr1"]
    for host in hosts:
        node = _add(ctx, agents, host)
        _grow(node, 300)
        agents.chunk[host] = 50
    _whitelist(ctx, node)
    api = RoundAPI(agents)
    runner = roundrunner.RoundRunner(conf, att, api, "w1")
    api.runner = runner
    runner.start()
    try:
        for host in hosts:
            runner.add((host, host))

        def status(host):
            return attestation_db.registration_get(ctx, host).status

        runner._round_job(0)
        _wait(lambda: all(status(h) == "trusted" for h in hosts), "trust")
        _wait(lambda: not runner._recording, "the follow-ups recorded")
        # One round answer, then the rest through the quote path.
        assert len(api.sent) == 1
        for host in hosts:
            offsets = [a[2] for a in agents.asked if a[0] == host]
            assert offsets == [50, 100, 150, 200, 250, 300], offsets
        # Later rounds: the new entries, chunked when there are many.
        for host in hosts:
            _grow(agents.nodes[host], 120)
        runner._round_job(0)

        def count(host):
            reg = attestation_db.registration_get(ctx, host)
            return state_mod.load(reg.state).ima_count

        _wait(lambda: all(count(h) == 423 for h in hosts), "the 2nd round")
        _wait(lambda: not runner._recording, "the second follow-ups")
        for host in hosts:
            assert [a[2] for a in agents.asked if a[0] == host][-2:] == [
                353,
                403,
            ]
            assert _ids(ctx, host) == ["ACAAS-DCS-030"]
            assert status(host) == "trusted"
    finally:
        runner.stop()
