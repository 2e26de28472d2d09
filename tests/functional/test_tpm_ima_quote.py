"""An IMA log replayed against PCR 10 of a real swtpm, as the kernel
would extend it, checked through a verified quote."""

import hashlib

import pytest

from acaas_nova.attestation import errors
from acaas_nova.attestation import ima_replay
from acaas_nova.attestation import quote as q
from acaas_nova.evidence import ima_build
from acaas_nova.tpm import keys
from acaas_nova.tpm.device import TPMDevice
from tests.functional.swtpm import swtpm  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_ca  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_ca_template  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_factory  # noqa: F401 (pytest fixtures)

BANKS = ("sha1", "sha256")
SELECTION = {"sha256": range(11)}


class Node:
    """A swtpm plus the measurement list its 'kernel' keeps."""

    def __init__(self, dev):
        self.dev = dev
        self.ak = keys.create_ak(dev)
        self.key = q.AttestationKey.from_tpm2b_public(self.ak.public)
        self.boot()

    def boot(self):
        # Firmware measures the boot chain into PCRs 0-9 ...
        for index in range(10):
            self.dev.pcr_extend(
                index,
                {
                    b: hashlib.new(b, b"boot %d" % index).digest()
                    for b in BANKS
                },
            )
        # ... and IMA starts its log with boot_aggregate.
        self.log = ima_build.LogBuilder(BANKS)
        boot = self.dev.pcr_read({b: range(10) for b in BANKS})
        self.log.add_boot_aggregate(boot)
        self._extend_last()

    def _extend_last(self):
        self.dev.pcr_extend(
            10, {b: self.log.extends[b][-1] for b in self.log.extends}
        )

    def measure(self, count, start=0):
        for i in range(start, start + count):
            self.log.add_file("/usr/bin/tool %d" % i, b"content %d" % i)
            self._extend_last()

    def attest(self, previous=None):
        nonce = hashlib.sha256(str(len(self.log)).encode()).digest()
        ev = keys.quote(self.dev, self.ak, nonce, SELECTION)
        return q.verify_quote(
            self.key,
            ev.attest,
            ev.signature,
            ev.pcrs,
            nonce,
            SELECTION,
            previous=previous,
        )


@pytest.fixture
def node(swtpm):  # noqa: F811
    with TPMDevice(swtpm.tcti) as dev:
        yield Node(dev)


def test_log_replays_to_quoted_pcr10(node):
    node.measure(20)
    result = node.attest()
    assert result.pcrs["sha256"][10] == node.log.pcr10["sha256"]
    done = ima_replay.verify(
        node.log.text(), result.pcrs["sha256"][10], boot_pcrs=result.pcrs
    )
    assert len(done.accepted) == 21
    assert done.state.boot_verified


def test_log_ahead_of_quote_then_incremental(node):
    node.measure(5)
    result = node.attest()
    node.measure(3, start=5)  # measured after the quote was taken
    first = ima_replay.verify(
        node.log.text(), result.pcrs["sha256"][10], boot_pcrs=result.pcrs
    )
    assert first.state.count == 6 and len(first.state.pending) == 3
    node.measure(10, start=8)
    second = node.attest(previous=result.clock_info)
    done = ima_replay.verify(
        node.log.text(first.state.next_entry),
        second.pcrs["sha256"][10],
        first.state,
    )
    assert done.state.count == len(node.log) == 19
    assert len(done.accepted) == 13


def test_log_that_does_not_match_pcr10(node):
    node.measure(5)
    result = node.attest()
    # The kernel log claims another file than the one measured.
    forged = ima_build.LogBuilder(BANKS)
    forged.lines = list(node.log.lines)
    forged.lines[3] = ima_build.format_entry(
        "ima-ng",
        ima_build.file_digest(b"trojan"),
        "/usr/bin/tool 2",
    )
    with pytest.raises(errors.LogMismatch):
        ima_replay.verify(
            forged.text(), result.pcrs["sha256"][10], boot_pcrs=result.pcrs
        )


def test_wrong_boot_aggregate(node):
    node.dev.pcr_extend(
        8, {b: hashlib.new(b, b"late").digest() for b in BANKS}
    )
    node.measure(2)
    result = node.attest()
    with pytest.raises(errors.BootAggregateMismatch):
        ima_replay.verify(
            node.log.text(), result.pcrs["sha256"][10], boot_pcrs=result.pcrs
        )


def test_reset_forces_full_replay(swtpm, node):  # noqa: F811
    node.measure(4)
    before = node.attest()
    state = ima_replay.verify(
        node.log.text(), before.pcrs["sha256"][10], boot_pcrs=before.pcrs
    ).state
    node.dev.close()
    swtpm.restart()
    with TPMDevice(swtpm.tcti) as dev:
        node.dev = dev
        node.boot()
        node.measure(2)
        after = node.attest(previous=before.clock_info)
        assert after.reboot
        with pytest.raises(errors.LogMismatch):
            # Continuing the old state cannot reach the new PCR 10.
            ima_replay.verify(
                node.log.text(state.next_entry),
                after.pcrs["sha256"][10],
                state,
            )
        done = ima_replay.verify(
            node.log.text(),
            after.pcrs["sha256"][10],
            state,
            reset=True,
            boot_pcrs=after.pcrs,
        )
        assert done.state.count == 3
