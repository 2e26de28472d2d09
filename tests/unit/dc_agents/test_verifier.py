"""DC-S's judgement of attestation answers, with software-made quotes."""

import dataclasses
import os

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from acaas_nova.attestation import errors
from acaas_nova.attestation import quote
from acaas_nova.attestation import tpm_structs as ts
from acaas_nova.attestation import whitelist
from acaas_nova.evidence import ima_build
from acaas_nova.evidence import tpm_build
from dc_agents import messages
from dc_agents.dcs import state as state_mod
from dc_agents.dcs import verifier

FILES = {"/usr/bin/a": b"a", "/usr/bin/b": b"b"}
ZEROS = {i: bytes(32) for i in range(10)}


class Node:
    """A software 'TPM': PCR values, a clock and an ECDSA AK."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        public = tpm_build.tpm2b_public(
            self.key.public_key(), scheme=ts.ALG_ECDSA
        )
        self.ak = quote.AttestationKey.from_tpm2b_public(public)
        self.log = ima_build.LogBuilder(("sha256",))
        self.log.add_boot_aggregate({"sha256": ZEROS})
        for path, content in FILES.items():
            self.log.add_file(path, content)
        self.clock = 100
        self.reset_count = 0

    def answer(self, nonce, offset, cid="cid"):
        self.clock += 10
        pcrs = dict(ZEROS)
        pcrs[10] = self.log.pcr10["sha256"]
        attest = tpm_build.quote_attest(
            nonce,
            [("sha256", range(11))],
            {"sha256": pcrs},
            clock=self.clock,
            reset_count=self.reset_count,
        )
        sig = tpm_build.sign(self.key, attest, ts.ALG_ECDSA)
        wire = messages.quote_answer(
            cid,
            attest,
            sig,
            {"sha256": pcrs},
            self.log.text(offset),
            offset,
            None,
        )
        return messages.parse_quote_answer(wire, 1 << 20)


def _whitelist(node, version="1", files=FILES):
    return whitelist.load(
        {
            "name": "good",
            "version": version,
            "digests": {
                p: [ima_build.file_digest(c)] for p, c in files.items()
            },
            "boot_aggregates": [node.log.lines[0].split(" ")[3]],
        }
    )


def _judge(node, st, wls, offset=None, nonce=None, full=False, sent=None):
    nonce_sent = sent or os.urandom(32)
    offset = st.ima_count if offset is None else offset
    answer = node.answer(nonce or nonce_sent, offset)
    return verifier.judge(
        "n1", node.ak, st, answer, nonce_sent, offset, wls, {}, full=full
    )


def test_trusted_then_incremental():
    node = Node()
    wls = [_whitelist(node)]
    first = _judge(node, state_mod.NodeState(), wls)
    assert first.trusted and first.whitelists == ("good",)
    assert first.rcot and first.error is None
    assert first.state.ima_count == 3
    # Round trip through the stored JSON form, then two more entries.
    st = state_mod.load(state_mod.dump(first.state))
    assert st == dataclasses.replace(first.state)
    node.log.add_file("/usr/bin/a", b"a")
    second = _judge(node, st, wls)
    assert second.trusted and second.state.ima_count == 4
    assert second.rcot == first.rcot


def test_unknown_file_is_not_trusted():
    node = Node()
    wls = [_whitelist(node)]
    st = _judge(node, state_mod.NodeState(), wls).state
    node.log.add_file("/tmp/evil", b"evil")
    verdict = _judge(node, st, wls)
    assert not verdict.trusted and verdict.rcot is None
    assert isinstance(verdict.error, errors.MeasurementNotAllowed)
    assert "/tmp/evil" in verdict.error.message


def test_no_whitelist_is_not_trusted():
    verdict = _judge(Node(), state_mod.NodeState(), [])
    assert not verdict.trusted
    assert "no white-list" in verdict.error.message


def test_nonce_of_another_request_refused():
    node = Node()
    with pytest.raises(errors.NonceMismatch):
        _judge(node, state_mod.NodeState(), [], nonce=os.urandom(32))


def test_replayed_clock_refused():
    node = Node()
    wls = [_whitelist(node)]
    st = _judge(node, state_mod.NodeState(), wls).state
    node.clock -= 100
    with pytest.raises(errors.ClockError):
        _judge(node, st, wls)


def test_reboot_needs_full_log():
    node = Node()
    wls = [_whitelist(node)]
    st = _judge(node, state_mod.NodeState(), wls).state
    node.reset_count += 1
    with pytest.raises(verifier.NeedFullLog):
        _judge(node, st, wls)
    verdict = _judge(node, st, wls, offset=0)
    assert verdict.trusted and verdict.reboot


def test_changed_whitelist_needs_full_log():
    node = Node()
    st = _judge(node, state_mod.NodeState(), [_whitelist(node)]).state
    wls = [_whitelist(node, version="2")]
    with pytest.raises(verifier.NeedFullLog):
        _judge(node, st, wls)
    assert _judge(node, st, wls, offset=0, full=True).trusted


def test_log_not_matching_pcr_refused():
    node = Node()
    wls = [_whitelist(node)]
    st = _judge(node, state_mod.NodeState(), wls).state
    node.log.add_file("/usr/bin/a", b"a")
    node.log.lines[-1] = ima_build.format_entry(
        "ima-ng", ima_build.file_digest(b"b"), "/usr/bin/b"
    )
    with pytest.raises(errors.LogMismatch):
        _judge(node, st, wls)


def test_answer_for_other_offset_refused():
    node = Node()
    answer = node.answer(b"n" * 32, 1)
    with pytest.raises(errors.MalformedInput, match="start at 1"):
        verifier.judge(
            "n1", node.ak, state_mod.NodeState(), answer, b"n" * 32, 0, [], {}
        )
