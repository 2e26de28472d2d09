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

    def answer(self, nonce, offset, cid="cid", count=None):
        """A quote answer with entries from ``offset`` (``count`` of
        them at most: a chunk, more follow if the log goes on)."""
        self.clock += 10
        lines = self.log.lines[offset:]
        more = count is not None and len(lines) > count
        text = "".join(line + "\n" for line in lines[:count])
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
            text,
            offset,
            None,
            ima_more=more,
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


# -- a log sent in chunks -----------------------------------------------------


def _chunked(node, st, wls, count, full=False, progress=None, rounds=100):
    """Judge chunk after chunk of ``count`` entries, each over a fresh
    nonce, until a verdict; returns (verdict, the Progress objects)."""
    seen = []
    for _ in range(rounds):
        offset = (
            progress.next_entry if progress else (0 if full else st.ima_count)
        )
        nonce = os.urandom(32)
        answer = node.answer(nonce, offset, count=count)
        result = verifier.judge(
            "n1",
            node.ak,
            st,
            answer,
            nonce,
            offset,
            wls,
            {},
            full=full,
            progress=progress,
        )
        if isinstance(result, verifier.Verdict):
            return result, seen
        seen.append(result)
        progress = result
    raise AssertionError("no verdict")


def _grow(node, count):
    """``count`` more white-listed entries."""
    paths = sorted(FILES)
    for i in range(count):
        node.log.add_file(paths[i % 2], FILES[paths[i % 2]])


def test_chunks_are_verified_and_judged_at_the_last():
    node = Node()
    _grow(node, 47)  # 50 entries
    wls = [_whitelist(node)]
    verdict, partial = _chunked(node, state_mod.NodeState(), wls, 12)
    assert [p.chunks for p in partial] == [1, 2, 3, 4]
    assert [p.next_entry for p in partial] == [12, 24, 36, 48]
    assert all(p.state.ima.count == 0 for p in partial)  # none judged
    assert partial[-1].log_bytes == sum(
        len(line) + 1 for line in node.log.lines[:48]
    )
    assert partial[0].full and not partial[0].reboot
    assert verdict.trusted and verdict.state.ima_count == 50
    assert verdict.state.ima.pending == ()
    # The clock went on with every chunk's quote.
    assert verdict.state.clock.clock == node.clock
    # Later rounds are incremental again; more new entries come in chunks.
    _grow(node, 10)
    again, partial = _chunked(node, verdict.state, wls, 4)
    assert len(partial) == 2 and not partial[0].full
    assert again.trusted and again.state.ima_count == 60


def test_a_file_off_the_whitelist_in_an_early_chunk_is_judged_at_the_end():
    node = Node()
    node.log.add_file("/tmp/evil", b"evil")
    _grow(node, 20)
    verdict, partial = _chunked(
        node, state_mod.NodeState(), [_whitelist(node)], 5
    )
    assert len(partial) == 4
    assert not verdict.trusted and "/tmp/evil" in verdict.error.message


def test_each_chunk_needs_its_own_fresh_nonce():
    node = Node()
    _grow(node, 10)
    st = state_mod.NodeState()
    nonce = os.urandom(32)
    first = verifier.judge(
        "n1", node.ak, st, node.answer(nonce, 0, count=5), nonce, 0, [], {}
    )
    assert isinstance(first, verifier.Progress)
    with pytest.raises(errors.NonceMismatch):
        verifier.judge(
            "n1",
            node.ak,
            st,
            node.answer(os.urandom(32), 5, count=5),
            os.urandom(32),
            5,
            [],
            {},
            progress=first,
        )
    # A chunk whose quote replays the previous chunk's clock is refused.
    node.clock = first.state.clock.clock - 20
    nonce = os.urandom(32)
    with pytest.raises(errors.ClockError):
        verifier.judge(
            "n1",
            node.ak,
            st,
            node.answer(nonce, 5, count=5),
            nonce,
            5,
            [],
            {},
            progress=first,
        )


def _progress(node, st, count, offset=0):
    nonce = os.urandom(32)
    return verifier.judge(
        "n1",
        node.ak,
        st,
        node.answer(nonce, offset, count=count),
        nonce,
        offset,
        [],
        {},
    )


def test_forged_chunks_are_refused():
    node = Node()
    _grow(node, 20)
    st = state_mod.NodeState()
    first = _progress(node, st, 10)
    # A template hash that does not match its fields: refused at once.
    bad = node.log.lines[10].split(" ")
    bad[1] = "00" * 19 + "01"
    node.log.lines[10] = " ".join(bad)
    with pytest.raises(errors.TemplateHashMismatch):
        _chunked(node, st, [], 5, progress=first)
    # A consistent entry the TPM never extended: the last answer's
    # replay does not reach its PCR 10.
    node.log.lines[10] = ima_build.format_entry(
        "ima-ng", ima_build.file_digest(b"x"), "/hidden"
    )
    with pytest.raises(errors.LogMismatch):
        _chunked(node, st, [], 5, progress=first)


def test_a_chunk_that_changes_pending_entries_is_a_rewrite():
    node = Node()
    _grow(node, 20)
    st = state_mod.NodeState()
    first = _progress(node, st, 10)
    node.log.lines[7] = ima_build.format_entry(
        "ima-ng", ima_build.file_digest(b"x"), "/changed"
    )
    nonce = os.urandom(32)
    with pytest.raises(errors.LogRewritten, match="entry 7 changed"):
        verifier.judge(
            "n1",
            node.ak,
            st,
            node.answer(nonce, 5, count=10),
            nonce,
            5,
            [],
            {},
            progress=first,
        )


def test_reboot_between_chunks_needs_the_whole_log_again():
    node = Node()
    wls = [_whitelist(node)]
    st = _judge(node, state_mod.NodeState(), wls).state
    _grow(node, 20)
    first = _progress(node, st, 5, offset=st.ima_count)
    assert isinstance(first, verifier.Progress)
    node.reset_count += 1
    with pytest.raises(verifier.NeedFullLog):
        _chunked(node, st, wls, 5, progress=first)
    verdict, _ = _chunked(node, st, wls, 5, full=True)
    assert verdict.trusted and verdict.reboot


def test_changed_whitelist_is_seen_at_the_first_chunk():
    node = Node()
    st = _judge(node, state_mod.NodeState(), [_whitelist(node)]).state
    _grow(node, 20)
    with pytest.raises(verifier.NeedFullLog):
        _chunked(node, st, [_whitelist(node, version="2")], 5)


def test_a_partial_answer_without_entries_is_refused():
    node = Node()
    nonce = os.urandom(32)
    answer = dataclasses.replace(
        node.answer(nonce, 0), ima_log="", ima_more=True
    )
    with pytest.raises(errors.MalformedInput, match="without IMA entries"):
        verifier.judge(
            "n1", node.ak, state_mod.NodeState(), answer, nonce, 0, [], {}
        )
