"""Tests for acaas_nova.attestation.whitelist_eval (matching)."""

import copy
import hashlib

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from acaas_nova.attestation import ima
from acaas_nova.attestation import ima_replay
from acaas_nova.attestation import whitelist
from acaas_nova.attestation import whitelist_eval as ev
from acaas_nova.attestation.errors import MeasurementNotAllowed
from acaas_nova.evidence import ima_build
from acaas_nova.exception import Invalid

PCRS = {
    "sha256": {i: hashlib.sha256(b"p%d" % i).digest() for i in range(10)},
}


def good_log(n=6):
    log = ima_build.LogBuilder(["sha256"])
    log.add_boot_aggregate(PCRS)
    for i in range(n):
        log.add_file("/usr/lib/lib%d.so" % i, b"%d" % i)
    return log


def boot_of(entries, pcrs=PCRS):
    return ev.BootState(entries[0].digest, pcrs)


def test_generated_white_list_is_satisfied_by_its_log():
    log = good_log()
    wl = whitelist.generate("good", "1", log.text(), PCRS)
    entries = ima.parse(log.text())
    result = ev.evaluate([wl], entries, boot_of(entries))["good"]
    assert result.satisfied and result.error() is None
    assert result.entries == len(entries)
    assert ev.satisfied({"good": result}) == [("good", "1", wl.fingerprint)]


def test_every_offending_entry_is_listed():
    log = good_log()
    wl = whitelist.generate("good", "1", log.text(), PCRS)
    bad = good_log()
    bad.lines[2] = ima_build.format_entry(
        "ima-ng", ima_build.file_digest(b"trojan"), "/usr/lib/lib1.so"
    )
    bad.add_file("/usr/bin/nc", b"nc")
    bad.add("ima-ng", "sha256:" + "00" * 32, "/etc/shadow", violation=True)
    entries = ima.parse(bad.text())
    result = ev.evaluate([wl], entries, boot_of(entries))["good"]
    assert not result.satisfied
    assert [(o.index, o.path, o.reason) for o in result.offending] == [
        (2, "/usr/lib/lib1.so", "digest not allowed"),
        (7, "/usr/bin/nc", "unknown path"),
        (8, "/etc/shadow", "violation"),
    ]
    err = result.error()
    assert isinstance(err, MeasurementNotAllowed)
    assert err.offending[0] == (
        "/usr/lib/lib1.so",
        ima_build.file_digest(b"trojan"),
    )
    assert len(err.offending) == 3
    assert "good/1" in str(err) and "3 entries not allowed" in str(err)


def test_excluded_paths_are_not_checked_but_violations_are():
    log = good_log(1)
    log.add_file("/var/log/nova.log", b"anything")
    wl = whitelist.generate(
        "good", "1", ima.parse(log.text())[:2], PCRS, excludes=["/var/log/*"]
    )
    entries = ima.parse(log.text())
    assert ev.evaluate([wl], entries, boot_of(entries))["good"].satisfied
    # A violation's path is not integrity-protected: never excluded.
    log.add("ima-ng", "sha256:" + "00" * 32, "/var/log/x", violation=True)
    entries = ima.parse(log.text())
    result = ev.evaluate([wl], entries, boot_of(entries))["good"]
    assert not result.satisfied
    assert [(o.path, o.reason) for o in result.offending] == [
        ("/var/log/x", "violation")
    ]


def test_boot_state_rules():
    log = good_log(1)
    entries = ima.parse(log.text())
    wl = whitelist.generate("good", "1", entries, PCRS)
    other_pcrs = {"sha256": {**PCRS["sha256"], 3: bytes(32)}}
    r = ev.boot_reason(wl, ev.BootState("sha256:" + "00" * 32, PCRS))
    assert "boot_aggregate sha256:00" in r
    r = ev.boot_reason(wl, ev.BootState(entries[0].digest, other_pcrs))
    assert r == "PCR 0-7 match no approved boot configuration"
    # A configuration in a bank the quote does not carry never matches.
    r = ev.boot_reason(
        wl,
        ev.BootState(
            entries[0].digest, {"sha1": {i: bytes(20) for i in range(8)}}
        ),
    )
    assert "no approved boot" in r
    doc = wl.to_dict()
    doc["boot_aggregates"] = []
    # PCR 0-7 alone do not pin the kernel (8, 9): refused without
    # boot_aggregates.
    with pytest.raises(Invalid, match="must pin PCRs 0-9"):
        whitelist.load(doc)
    doc["boot_configs"][0]["sha256"].update(
        {"8": PCRS["sha256"][8].hex(), "9": PCRS["sha256"][9].hex()}
    )
    only_pcrs = whitelist.load(doc)
    assert (
        ev.boot_reason(only_pcrs, ev.BootState(entries[0].digest, PCRS)) == ""
    )
    # Boot values and no boot_aggregate (IMA off, empty log): not trusted.
    assert "no boot_aggregate" in ev.boot_reason(
        only_pcrs, ev.BootState(None, PCRS)
    )
    result = ev.evaluate([wl], entries, ev.BootState(None, other_pcrs))
    err = result["good"].error()
    assert "no boot_aggregate" in str(err)


def test_several_white_lists_at_once():
    log = good_log(3)
    entries = ima.parse(log.text())
    full = whitelist.generate("full", "1", entries, PCRS)
    partial = whitelist.generate("partial", "2", entries[:2], PCRS)
    results = ev.evaluate([full, partial], entries, boot_of(entries))
    assert results["full"].satisfied
    assert [o.path for o in results["partial"].offending] == [
        "/usr/lib/lib1.so",
        "/usr/lib/lib2.so",
    ]
    assert [n for n, _, _ in ev.satisfied(results)] == ["full"]


def test_incremental_evaluation_merges():
    log = good_log(4)
    wl = whitelist.generate("good", "1", log.text(), PCRS)
    state = ima_replay.verify(log.text(), log.pcr10["sha256"]).state
    first = ima_replay.verify(log.text(), log.pcr10["sha256"])
    evals = ev.evaluate([wl], first.accepted, boot_of(first.accepted))
    state = first.state.with_evaluations(evals)
    log.add_file("/usr/bin/unknown", b"u")
    nxt = ima_replay.verify(log.text(state.count), log.pcr10["sha256"], state)
    boot = ev.BootState(nxt.state.boot_aggregate, PCRS)
    assert ev.stale([wl], nxt.state.evaluations, nxt.accepted[0].index) == []
    merged = ev.evaluate([wl], nxt.accepted, boot, nxt.state.evaluations)
    assert merged["good"].entries == 6
    assert [o.index for o in merged["good"].offending] == [5]
    # Nothing new: the evaluation stands, the boot state is re-judged.
    again = ev.evaluate([wl], [], boot, merged)
    assert again["good"].offending == merged["good"].offending


def test_changed_or_new_white_list_needs_full_log():
    log = good_log(2)
    entries = ima.parse(log.text())
    wl = whitelist.generate("good", "1", entries, PCRS)
    evals = ev.evaluate([wl], entries, boot_of(entries))
    doc = copy.deepcopy(wl.to_dict())
    doc["excludes"] = ["/scratch/*"]
    changed = whitelist.load(doc)
    other = whitelist.generate("other", "1", entries, PCRS)
    assert ev.stale([wl, changed, other], evals, 3) == ["good", "other"]
    assert ev.stale([wl], evals, 2) == ["good"]
    log.add_file("/x", b"x")
    new = ima.parse(log.text(3), first_entry=3)
    with pytest.raises(Invalid, match="evaluated up to entry 0"):
        ev.evaluate([changed], new, boot_of(entries), evals)
    with pytest.raises(Invalid, match="no evaluation and no entries"):
        ev.evaluate([other], [], boot_of(entries), evals)
    # From entry 0 a changed white-list is evaluated afresh.
    full = ev.evaluate(
        [changed], ima.parse(log.text()), boot_of(entries), evals
    )
    assert full["good"].fingerprint == changed.fingerprint


@given(st.lists(st.booleans(), min_size=1, max_size=12), st.integers(1, 11))
@settings(max_examples=60, deadline=None)
def test_incremental_equals_full_evaluation(known, split):
    good = good_log(len(known))
    wl = whitelist.generate("good", "1", good.text(), PCRS)
    log = good_log(0)
    for i, ok in enumerate(known):
        log.add_file("/usr/lib/lib%d.so" % i, b"%d" % i if ok else b"bad")
    entries = ima.parse(log.text())
    split = min(split, len(entries))
    boot = boot_of(entries)
    full = ev.evaluate([wl], entries, boot)
    part = ev.evaluate([wl], entries[:split], boot)
    part = ev.evaluate([wl], entries[split:], boot, part)
    assert part == full
    assert len(full["good"].offending) == known.count(False)


def test_explicit_start():
    log = good_log(2)
    entries = ima.parse(log.text())
    wl = whitelist.generate("good", "1", entries, PCRS)
    # A node whose log is still empty: never satisfied (nothing measured).
    empty = ev.evaluate([wl], [], boot_of(entries), start=0)
    assert empty["good"].entries == 0 and not empty["good"].satisfied
    assert empty["good"].boot_reason == ev.NOTHING_MEASURED
    later = ev.evaluate([wl], entries, boot_of(entries), empty, start=0)
    assert later["good"].entries == 3
    with pytest.raises(Invalid, match="entries start at 1, not 0"):
        ev.evaluate([wl], entries[1:], boot_of(entries), start=0)


def _boot_only_white_list(entries):
    """A white-list of boot values only: PCRs 0-9 and boot_aggregate."""
    return whitelist.load(
        {
            "name": "boot-only",
            "version": "1",
            "boot_aggregates": [entries[0].digest],
            "boot_configs": [
                {
                    "sha256": {
                        str(i): PCRS["sha256"][i].hex() for i in range(10)
                    }
                }
            ],
        }
    )


def test_boot_values_and_an_empty_log_are_not_trusted():
    log = good_log(0)  # boot_aggregate and nothing else
    entries = ima.parse(log.text())
    wl = _boot_only_white_list(entries)
    assert ev.boot_reason(wl, boot_of(entries)) == ""  # boot is approved
    result = ev.evaluate([wl], entries, boot_of(entries))["boot-only"]
    assert not result.satisfied
    assert "records nothing after boot_aggregate" in str(result.error())
    assert ev.satisfied({"boot-only": result}) == []
    # IMA off: no log at all, PCR 10 zero -- no boot_aggregate either.
    result = ev.evaluate([wl], [], ev.BootState(None, PCRS), start=0)
    assert "no boot_aggregate" in str(result["boot-only"].error())


def test_boot_only_white_list_rejects_any_measured_file():
    # Only boot values pin nothing after boot: every file is an offence,
    # so such a white-list never makes a running node trusted.
    log = good_log(1)
    entries = ima.parse(log.text())
    wl = _boot_only_white_list(entries)
    result = ev.evaluate([wl], entries, boot_of(entries))["boot-only"]
    assert [o.reason for o in result.offending] == ["unknown path"]


def test_exclusions_at_evaluation_do_not_cross_slash():
    log = good_log(0)
    log.add_file("/var/log/nova.log", b"a")
    log.add_file("/var/log/nova/api.log", b"b")
    entries = ima.parse(log.text())
    boot = boot_of(entries)
    star = whitelist.generate(
        "s", "1", entries[:1], PCRS, excludes=["/var/log/*"]
    )
    result = ev.evaluate([star], entries, boot)["s"]
    assert [o.path for o in result.offending] == ["/var/log/nova/api.log"]
    deep = whitelist.generate(
        "d", "1", entries[:1], PCRS, excludes=["/var/log/**"]
    )
    assert ev.evaluate([deep], entries, boot)["d"].satisfied
