"""Tests for acaas_nova.attestation.ima_replay (PCR 10 replay)."""

import hashlib

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from acaas_nova.attestation import ima
from acaas_nova.attestation import ima_replay
from acaas_nova.attestation.errors import BootAggregateMismatch
from acaas_nova.attestation.errors import ImaDisabled
from acaas_nova.attestation.errors import LogMismatch
from acaas_nova.attestation.errors import LogRewritten
from acaas_nova.attestation.errors import TemplateHashMismatch
from acaas_nova.attestation.errors import UnsupportedAlgorithm
from acaas_nova.evidence import ima_build

PCRS = {
    "sha1": {i: hashlib.sha1(b"p%d" % i).digest() for i in range(24)},
    "sha256": {i: hashlib.sha256(b"p%d" % i).digest() for i in range(24)},
}


def make_log(n, banks=("sha1", "sha256"), algo="sha256"):
    log = ima_build.LogBuilder(banks)
    log.add_boot_aggregate(PCRS, algo)
    for i in range(n):
        log.add_file("/usr/lib/lib%d.so" % i, b"content %d" % i)
    return log


@pytest.mark.parametrize("bank", ["sha1", "sha256"])
def test_full_replay_matches_quote(bank):
    log = make_log(20)
    result = ima_replay.verify(
        log.text(), log.pcr10[bank], bank=bank, boot_pcrs=PCRS
    )
    assert len(result.accepted) == 21
    assert result.state.count == 21
    assert result.state.pcr == log.pcr10[bank]
    assert result.state.boot_verified
    assert result.state.boot_aggregate == result.accepted[0].digest
    assert result.state.pending == ()


def test_boot_aggregate_rules_per_bank():
    sha1 = hashlib.sha1(b"".join(PCRS["sha1"][i] for i in range(8)))
    sha256 = hashlib.sha256(b"".join(PCRS["sha256"][i] for i in range(10)))
    assert ima_replay.boot_aggregate("sha1", PCRS["sha1"]) == sha1.digest()
    assert ima_replay.boot_aggregate("sha256", PCRS["sha256"]) == (
        sha256.digest()
    )
    with pytest.raises(BootAggregateMismatch, match="PCR 9"):
        ima_replay.boot_aggregate("sha256", {i: bytes(32) for i in range(9)})


def test_sha1_boot_aggregate_needs_sha1_pcrs():
    log = make_log(2, algo="sha1")
    ok = ima_replay.verify(log.text(), log.pcr10["sha256"], boot_pcrs=PCRS)
    assert ok.state.boot_verified
    with pytest.raises(BootAggregateMismatch, match="no sha1 PCR"):
        ima_replay.verify(
            log.text(),
            log.pcr10["sha256"],
            boot_pcrs={"sha256": PCRS["sha256"]},
        )


def test_wrong_boot_aggregate_is_rejected():
    log = make_log(3)
    other = dict(PCRS["sha256"])
    other[4] = bytes(32)
    with pytest.raises(BootAggregateMismatch, match="PCRs give"):
        ima_replay.verify(
            log.text(), log.pcr10["sha256"], boot_pcrs={"sha256": other}
        )


def test_first_entry_must_be_boot_aggregate():
    log = ima_build.LogBuilder()
    log.add_file("/init", b"init")
    with pytest.raises(BootAggregateMismatch, match="not boot_aggregate"):
        ima_replay.verify(log.text(), log.pcr10["sha256"])


def test_boot_aggregate_unchecked_without_pcrs():
    log = make_log(1)
    result = ima_replay.verify(log.text(), log.pcr10["sha256"])
    assert not result.state.boot_verified


def test_log_ahead_of_quote_keeps_remainder():
    log = make_log(10)
    quoted = ima_build.pcrs_after(["sha256"], log.extends, 6)["sha256"]
    first = ima_replay.verify(log.text(), quoted)
    assert first.state.count == 6
    assert [e.index for e in first.state.pending] == [6, 7, 8, 9, 10]
    assert first.state.next_entry == 11
    for i in range(3):
        log.add_file("/new%d" % i, b"n")
    second = ima_replay.verify(log.text(11), log.pcr10["sha256"], first.state)
    assert [e.index for e in second.accepted] == list(range(6, 14))
    assert second.state.count == 14 and second.state.pending == ()


def test_resent_pending_lines_are_compared():
    log = make_log(6)
    quoted = ima_build.pcrs_after(["sha256"], log.extends, 3)["sha256"]
    state = ima_replay.verify(log.text(), quoted).state
    again = ima_replay.verify(
        log.text(3), log.pcr10["sha256"], state, first_entry=3
    )
    assert again.state.count == 7
    lines = log.lines[3:]
    lines[1] = ima_build.format_entry(
        "ima-ng", ima_build.file_digest(b"x"), "/changed"
    )
    with pytest.raises(LogMismatch, match="entry 4 changed"):
        ima_replay.verify(
            "\n".join(lines), log.pcr10["sha256"], state, first_entry=3
        )


def test_quote_equal_to_state_accepts_nothing():
    log = make_log(4)
    state = ima_replay.verify(log.text(), log.pcr10["sha256"]).state
    log.add_file("/later", b"later")
    result = ima_replay.verify(log.text(5), state.pcr, state)
    assert result.accepted == ()
    assert [e.path for e in result.state.pending] == ["/later"]


def test_log_resent_from_an_accepted_entry_is_refused_without_reset():
    # Accepted entries are never sent again until a TPM reset: a log that
    # starts earlier could rewrite or cut them unnoticed.
    log = make_log(5)
    state = ima_replay.verify(log.text(), log.pcr10["sha256"]).state
    log.add_file("/more", b"m")
    with pytest.raises(LogRewritten, match="resent from entry 0"):
        ima_replay.verify(
            log.text(), log.pcr10["sha256"], state, first_entry=0
        )
    with pytest.raises(LogRewritten, match="resent from entry 5"):
        ima_replay.verify(
            log.text(5), log.pcr10["sha256"], state, first_entry=5
        )
    # After a TPM reset the whole log is replayed afresh.
    result = ima_replay.verify(
        log.text(), log.pcr10["sha256"], state, first_entry=0, reset=True
    )
    assert len(result.accepted) == 7


def test_log_that_does_not_reach_quote():
    log = make_log(5)
    with pytest.raises(LogMismatch, match="entries 0-5 does not reach"):
        ima_replay.verify(log.text(), hashlib.sha256(b"other").digest())


def test_consistently_rewritten_entry_fails_replay():
    log = make_log(5)
    lines = log.lines[:]
    # An attacker rewrites a line with a valid template hash for a file
    # that was not what the kernel measured: only the PCR catches it.
    lines[3] = ima_build.format_entry(
        "ima-ng", ima_build.file_digest(b"evil"), "/usr/lib/lib2.so"
    )
    with pytest.raises(LogMismatch):
        ima_replay.verify("\n".join(lines), log.pcr10["sha256"])


def test_bad_template_hash_names_entry():
    log = make_log(5)
    lines = log.lines[:]
    lines[2] = lines[2].replace("/usr/lib/lib1.so", "/usr/lib/libX.so")
    with pytest.raises(TemplateHashMismatch, match="entry 2"):
        ima_replay.verify("\n".join(lines), log.pcr10["sha256"])


@pytest.mark.parametrize("bank", ["sha1", "sha256"])
def test_violation_extends_ff(bank):
    log = make_log(2)
    log.add("ima-ng", "sha256:" + "00" * 32, "/var/log/x", violation=True)
    assert log.extends[bank][-1] == b"\xff" * ima_replay.BANKS[bank]
    result = ima_replay.verify(log.text(), log.pcr10[bank], bank=bank)
    entry = result.accepted[-1]
    assert entry.violation
    assert ima_replay.extend_value(entry, bank) == log.extends[bank][-1]


def test_extend_value_per_bank():
    log = make_log(1)
    entry = ima.parse(log.text())[1]
    assert ima_replay.extend_value(entry, "sha1") == entry.template_hash
    assert ima_replay.extend_value(entry, "sha256") == (
        hashlib.sha256(entry.data).digest()
    )
    assert ima_replay.extend_value(entry, "sha256") == log.extends["sha256"][1]


def test_reset_forces_full_replay():
    log = make_log(4)
    state = ima_replay.verify(log.text(), log.pcr10["sha256"]).state
    fresh = make_log(2)
    result = ima_replay.verify(
        fresh.text(), fresh.pcr10["sha256"], state, reset=True
    )
    assert result.state.count == 3
    with pytest.raises(LogMismatch):
        ima_replay.verify(
            fresh.text(), fresh.pcr10["sha256"], state, first_entry=0
        )


def test_entries_never_sent_are_refused():
    log = make_log(4)
    state = ima_replay.verify(log.text(), log.pcr10["sha256"]).state
    with pytest.raises(LogMismatch, match="never sent"):
        ima_replay.verify("", log.pcr10["sha256"], state, first_entry=9)


def test_other_pcr_is_refused():
    log = make_log(1)
    line = ima_build.format_entry(
        "ima-ng", ima_build.file_digest(b"a"), "/a", pcr=11
    )
    with pytest.raises(LogMismatch, match="PCR 11"):
        ima_replay.verify(log.text() + line, b"\x01" * 32)


def test_bad_arguments():
    with pytest.raises(UnsupportedAlgorithm, match="md5"):
        ima_replay.verify("", bytes(16), bank="md5")
    with pytest.raises(LogMismatch, match="has 20 bytes"):
        ima_replay.verify("", bytes(20))
    state = ima_replay.ImaState(bank="sha1")
    with pytest.raises(UnsupportedAlgorithm, match="tracks bank sha1"):
        ima_replay.verify("", bytes(32), state, bank="sha256")


def test_state_is_not_modified():
    log = make_log(3)
    state = ima_replay.ImaState()
    ima_replay.verify(log.text(), log.pcr10["sha256"], state)
    assert state.count == 0 and state.pcr is None


def test_evaluations_survive_increments_and_drop_on_reset():
    log = make_log(3)
    state = ima_replay.verify(log.text(), log.pcr10["sha256"]).state
    state = state.with_evaluations({"wl": "x"})
    log.add_file("/x", b"x")
    nxt = ima_replay.verify(log.text(4), log.pcr10["sha256"], state).state
    assert nxt.evaluations == {"wl": "x"}
    reset = ima_replay.verify(
        log.text(), log.pcr10["sha256"], nxt, reset=True
    ).state
    assert reset.evaluations == {}


@given(st.lists(st.integers(1, 6), min_size=1, max_size=5))
@settings(max_examples=50, deadline=None)
def test_incremental_equals_full(chunks):
    log = make_log(0)
    state = ima_replay.verify(log.text(), log.pcr10["sha256"]).state
    for n, size in enumerate(chunks):
        start = len(log)
        for i in range(size):
            log.add_file("/f%d/%d" % (n, i), b"%d" % i)
        state = ima_replay.verify(
            log.text(start), log.pcr10["sha256"], state
        ).state
    full = ima_replay.verify(log.text(), log.pcr10["sha256"]).state
    assert (state.count, state.pcr) == (full.count, full.pcr)


def test_changed_pcr_without_new_entries():
    log = make_log(2)
    state = ima_replay.verify(log.text(), log.pcr10["sha256"]).state
    with pytest.raises(LogMismatch, match="no new entries"):
        ima_replay.verify("", b"\x02" * 32, state)


# -- IMA disabled -------------------------------------------------------------


def test_quote_with_ima_disabled_is_refused():
    # PCR 10 all zero and an empty log: IMA is not measuring.
    with pytest.raises(ImaDisabled, match="never extended"):
        ima_replay.verify("", bytes(32))
    with pytest.raises(ImaDisabled):
        ima_replay.verify(b"", bytes(20), bank="sha1")


def test_log_without_boot_aggregate_is_refused():
    log = ima_build.LogBuilder(("sha256",))
    log.add_file("/usr/bin/x", b"x")
    with pytest.raises(BootAggregateMismatch, match="not boot_aggregate"):
        ima_replay.verify(log.text(), log.pcr10["sha256"])


def test_ima_disabled_is_a_log_mismatch_with_its_own_event():
    assert issubclass(ImaDisabled, LogMismatch)
    assert issubclass(LogRewritten, LogMismatch)
    assert (
        len(
            {ImaDisabled.event_id, LogRewritten.event_id, LogMismatch.event_id}
        )
        == 3
    )


def test_pending_entry_changed_is_a_rewrite():
    log = make_log(3)
    quoted = log.pcr10["sha256"]
    log.add_file("/later", b"l")  # read with the log, beyond the quote
    state = ima_replay.verify(log.text(), quoted).state
    assert len(state.pending) == 1
    other = make_log(3)
    other.add_file("/other", b"o")  # a consistent, different entry
    with pytest.raises(LogRewritten, match="changed since it was read"):
        ima_replay.verify(
            other.text(state.count),
            other.pcr10["sha256"],
            state,
            first_entry=state.count,
        )


# -- a log sent in chunks (more=True for every chunk but the last) -----------


def _chunks(log, start, sizes):
    """Texts of consecutive chunks of ``log`` from entry ``start``."""
    out = []
    for size in sizes:
        out.append("".join(line + "\n" for line in log.lines[start:][:size]))
        start += size
    return out


def test_chunks_are_pending_until_the_last_replays_them_all():
    log = make_log(49)  # 50 entries
    quoted = log.pcr10["sha256"]
    state = None
    offset = 0
    for text in _chunks(log, 0, [10, 10, 10, 10]):
        result = ima_replay.verify(
            text, quoted, state, first_entry=offset, more=True
        )
        assert result.accepted == ()  # nothing judged before the end
        state = result.state
        offset += 10
        assert state.count == 0 and state.next_entry == offset
        assert [e.index for e in state.pending] == list(range(offset))
    last = ima_replay.verify(
        log.text(40), quoted, state, first_entry=40, boot_pcrs=PCRS
    )
    assert [e.index for e in last.accepted] == list(range(50))
    assert last.state.count == 50 and last.state.pending == ()
    assert last.state.pcr == quoted and last.state.boot_verified
    # The same as one answer with the whole log.
    whole = ima_replay.verify(log.text(), quoted, boot_pcrs=PCRS)
    assert whole.state == last.state


def test_chunks_after_accepted_entries_and_a_quote_behind_the_log():
    log = make_log(9)
    state = ima_replay.verify(log.text(), log.pcr10["sha256"]).state
    for i in range(30):
        log.add_file("/new%d" % i, b"n%d" % i)
    quoted = log.pcr10["sha256"]
    log.add_file("/after-the-quote", b"late")  # read, not yet quoted
    first = ima_replay.verify(
        log.text(10)[: len(_chunks(log, 10, [20])[0])],
        quoted,
        state,
        first_entry=10,
        more=True,
    )
    assert first.state.count == 10 and len(first.state.pending) == 20
    last = ima_replay.verify(log.text(30), quoted, first.state)
    assert last.state.count == 40
    assert [e.path for e in last.state.pending] == ["/after-the-quote"]


def test_a_forged_chunk_fails_at_once_or_at_the_last_chunk():
    log = make_log(20)
    quoted = log.pcr10["sha256"]
    first = ima_replay.verify(
        _chunks(log, 0, [10])[0], quoted, first_entry=0, more=True
    )
    # A broken template hash is refused in the chunk itself.
    bad = log.lines[10].split(" ")
    bad[1] = "00" * 19 + "01"
    with pytest.raises(TemplateHashMismatch, match="entry 10"):
        ima_replay.verify(" ".join(bad) + "\n", quoted, first.state, more=True)
    # A consistent entry the TPM never saw: refused by the last answer.
    other = ima_build.format_entry(
        "ima-ng", ima_build.file_digest(b"x"), "/hidden"
    )
    second = ima_replay.verify(
        other + "\n" + _chunks(log, 11, [5])[0],
        quoted,
        first.state,
        more=True,
    )
    assert second.state.next_entry == 16
    with pytest.raises(LogMismatch, match="does not reach the quoted"):
        ima_replay.verify(log.text(16), quoted, second.state)


def test_a_chunk_changing_pending_entries_is_a_rewrite():
    log = make_log(20)
    quoted = log.pcr10["sha256"]
    first = ima_replay.verify(
        _chunks(log, 0, [12])[0], quoted, first_entry=0, more=True
    )
    # Resent unchanged: accepted as the same entries.
    again = ima_replay.verify(
        log.text(8)[: len(_chunks(log, 8, [8])[0])],
        quoted,
        first.state,
        first_entry=8,
        more=True,
    )
    assert [e.index for e in again.state.pending] == list(range(16))
    lines = log.lines[8:16]
    lines[2] = ima_build.format_entry(
        "ima-ng", ima_build.file_digest(b"x"), "/changed"
    )
    with pytest.raises(LogRewritten, match="entry 10 changed"):
        ima_replay.verify(
            "\n".join(lines) + "\n",
            quoted,
            first.state,
            first_entry=8,
            more=True,
        )
    # A chunk never leaves a hole either.
    with pytest.raises(LogMismatch, match="never sent"):
        ima_replay.verify(
            log.text(13), quoted, first.state, first_entry=13, more=True
        )


def test_a_chunk_leaves_the_given_state_alone():
    log = make_log(6)
    first = ima_replay.verify(
        _chunks(log, 0, [3])[0], log.pcr10["sha256"], more=True
    )
    before = first.state
    ima_replay.verify(log.text(3), log.pcr10["sha256"], first.state, more=True)
    assert first.state is before and len(before.pending) == 3
