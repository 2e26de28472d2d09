"""Tests for acaas_nova.evidence.ima_build (log builder)."""

import hashlib

import pytest

from acaas_nova.attestation import ima_replay
from acaas_nova.evidence import ima_build


def test_entry_hashes_per_bank_and_violation():
    data = ima_build.template_data("ima-ng", "sha256:" + "ab" * 32, "/x")
    th, values = ima_build.entry_hashes(data, ["sha1", "sha256", "sha384"])
    assert th == hashlib.sha1(data).digest() == values["sha1"]
    assert values["sha384"] == hashlib.sha384(data).digest()
    th, values = ima_build.entry_hashes(None, ["sha256"])
    assert th == bytes(20) and values == {"sha256": b"\xff" * 32}


def test_builder_tracks_pcr10_and_text_slices():
    log = ima_build.LogBuilder(["sha256"])
    log.add_file("/a", b"a")
    log.add_file("/b", b"b")
    assert len(log) == 2
    assert log.text(1) == log.lines[1] + "\n"
    expected = ima_replay.extend(
        "sha256",
        ima_replay.extend("sha256", bytes(32), log.extends["sha256"][0]),
        log.extends["sha256"][1],
    )
    assert log.pcr10["sha256"] == expected
    assert ima_build.pcrs_after(["sha256"], log.extends, 2) == log.pcr10
    assert ima_build.pcrs_after(["sha256"], log.extends, 0) == {
        "sha256": bytes(32)
    }


def test_unknown_template():
    with pytest.raises(ValueError, match="unknown template"):
        ima_build.template_data("ima-modsig", "sha256:00", "/x")


def test_line_hashes_match_builder():
    log = ima_build.LogBuilder(["sha1", "sha256"])
    line = log.add_file("/a", b"a")
    th, values = ima_build.line_hashes(line)
    assert values == {b: log.extends[b][0] for b in ("sha1", "sha256")}
    assert th == values["sha1"]
    vline = log.add("ima-ng", "sha256:" + "00" * 32, "/v", violation=True)
    assert ima_build.line_hashes(vline, ["sha256"]) == (
        bytes(20),
        {"sha256": b"\xff" * 32},
    )
