"""Replay an IMA measurement list to PCR 10, incrementally.

The kernel extends PCR 10 of every active bank with, per entry, the bank's
hash of the template data (SHA-1 bank: the logged template hash); a
violation entry (all-zero template hash) extends ``0xFF`` repeated to the
bank's size.  ``boot_aggregate`` (entry 0) is H(PCR0 || ... || PCR7) for a
SHA-1 digest and H(PCR0 || ... || PCR9) for any other algorithm, using that
algorithm's bank.

A quote and the log are not read atomically, so the log may run ahead of
the quoted PCR: :func:`verify` accepts the shortest prefix whose replay
equals the quoted value and keeps the rest pending for the next round.
A log too large for one message arrives in chunks: each chunk but the
last is verified with ``more=True`` (entries parsed and checked, kept
pending, nothing replayed); the last one replays everything pending.
:class:`ImaState` remembers what was accepted so a re-attestation replays
only new entries; after a TPM reset the caller passes ``reset=True``.
Pure: standard library only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from typing import Any

from acaas_nova.attestation import ima
from acaas_nova.attestation import inputs
from acaas_nova.attestation.errors import BootAggregateMismatch
from acaas_nova.attestation.errors import ImaDisabled
from acaas_nova.attestation.errors import LogMismatch
from acaas_nova.attestation.errors import LogRewritten
from acaas_nova.attestation.errors import MalformedInput
from acaas_nova.attestation.errors import UnsupportedAlgorithm

#: PCR banks we replay, with their digest sizes.
BANKS = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}
IMA_PCR = 10


def _hash(bank: str):
    if bank not in BANKS:
        raise UnsupportedAlgorithm(
            reason="PCR bank %r (supported: %s)"
            % (bank, ", ".join(sorted(BANKS)))
        )
    return getattr(hashlib, bank)


def extend(bank: str, pcr: bytes, value: bytes) -> bytes:
    """TPM2_PCR_Extend: ``H(pcr || value)``."""
    return _hash(bank)(pcr + value).digest()


def extend_value(entry: ima.Entry, bank: str) -> bytes:
    """What the kernel extends into PCR ``entry.pcr`` of ``bank``."""
    hasher = _hash(bank)
    if entry.violation:
        return b"\xff" * BANKS[bank]
    if bank == "sha1":
        return entry.template_hash
    return hasher(entry.data).digest()


def boot_aggregate(algo: str, pcrs: Mapping[int, bytes]) -> bytes:
    """The kernel's boot_aggregate for ``algo`` from that bank's PCRs."""
    indexes = range(8) if algo == "sha1" else range(10)
    h = _hash(algo)()
    for i in indexes:
        value = pcrs.get(i)
        if value is None or len(value) != BANKS[algo]:
            raise BootAggregateMismatch(
                reason="no valid %s PCR %d to compute it from" % (algo, i)
            )
        h.update(value)
    return h.digest()


@dataclass(frozen=True)
class ImaState:
    """What was accepted of one node's log (keep it per node and AK).

    Immutable: :func:`verify` returns a new one.  ``evaluations`` holds the
    white-list evaluations of the accepted entries (see
    :mod:`acaas_nova.attestation.whitelist_eval`); a reset drops them.
    """

    bank: str = "sha256"
    count: int = 0  #: entries accepted
    pcr: bytes | None = None  #: PCR 10 after them (None: all zero)
    boot_aggregate: str | None = None  #: "algo:hex" of entry 0
    boot_verified: bool = False  #: boot_aggregate checked against PCRs
    pending: tuple[ima.Entry, ...] = ()  #: parsed, beyond the last quote
    evaluations: Mapping[str, Any] = field(default_factory=dict)

    @property
    def next_entry(self) -> int:
        """Index of the first entry the agent has not sent yet."""
        return self.count + len(self.pending)

    def with_evaluations(self, evaluations: Mapping[str, Any]) -> ImaState:
        """This state with the white-list evaluations of its entries."""
        return replace(self, evaluations=evaluations)


@dataclass(frozen=True)
class Verification:
    """Outcome of :func:`verify`: entries newly accepted, and the state."""

    accepted: tuple[ima.Entry, ...]
    state: ImaState


def _new_entries(text, state: ImaState, first_entry: int, check: bool):
    lines = ima.split_lines(text)
    if first_entry == state.next_entry:
        # The usual case, also for every chunk of a long log: nothing
        # resent, the new lines follow what is pending.
        return [*state.pending, *ima.parse_lines(lines, first_entry, check)]
    known = state.pending[first_entry - state.count :]
    entries = list(state.pending[: first_entry - state.count])
    for offset, line in enumerate(lines):
        index = first_entry + offset
        if offset < len(known):
            if known[offset].raw != line:
                raise LogRewritten(
                    pcr=IMA_PCR,
                    reason="entry %d changed since it was read" % index,
                )
            entries.append(known[offset])
        else:
            entries.append(ima.parse_entry(line, index, index + 1, check))
    if len(entries) < len(state.pending):
        entries.extend(state.pending[len(entries) :])
    return entries


def verify(
    text: str | bytes,
    quoted_pcr: bytes,
    state: ImaState | None = None,
    *,
    first_entry: int | None = None,
    boot_pcrs: Mapping[str, Mapping[int, bytes]] | None = None,
    reset: bool = False,
    bank: str | None = None,
    more: bool = False,
) -> Verification:
    """Verify new log entries against the quoted PCR 10 of ``state.bank``.

    ``text`` holds entries from ``first_entry`` on (default: the state's
    ``next_entry``, or 0 on a reset or first attestation); it may
    not start before the accepted entries (LogRewritten) unless ``reset``.
    A quote whose PCR 10 was never extended, with no entries, raises
    ImaDisabled: IMA is off and nothing it would measure is known.
    ``boot_pcrs`` (bank ->
    {index: value}) from the same quote, if given, is used to check
    boot_aggregate.  Returns the accepted entries and the new state; the
    given state is never modified.  Raises MalformedInput,
    TemplateHashMismatch, BootAggregateMismatch or LogMismatch.

    ``more``: ``text`` is one chunk of a log the agent sends in several
    answers, and more follows.  Its entries are parsed and checked
    (template hashes, well-formedness, resent pending lines unchanged)
    and kept pending; nothing is replayed or accepted, since the quote
    may cover entries of later chunks.  The answer without ``more``
    replays every pending entry to its quoted PCR 10.
    """
    if state is not None and not isinstance(state, ImaState):
        raise MalformedInput(
            what="IMA state", reason="expected ImaState or None"
        )
    if bank is not None and (not isinstance(bank, str) or bank not in BANKS):
        raise UnsupportedAlgorithm(reason=("PCR bank %r" % (bank,))[:80])
    if not isinstance(quoted_pcr, bytes | bytearray | memoryview):
        raise MalformedInput(
            what="quoted PCR 10",
            reason="expected bytes, got %s" % type(quoted_pcr).__name__,
        )
    quoted_pcr = bytes(quoted_pcr)
    if first_entry is not None:
        first_entry = ima.entry_number(first_entry)
    if boot_pcrs is not None:
        boot_pcrs = inputs.pcr_values(boot_pcrs, "boot PCR values")
    if state is None or reset:
        state = ImaState(bank=bank or (state.bank if state else "sha256"))
    elif bank is not None and bank != state.bank:
        raise UnsupportedAlgorithm(
            reason="state tracks bank %s, not %s" % (state.bank, bank)
        )
    hasher = _hash(state.bank)
    size = BANKS[state.bank]
    if len(quoted_pcr) != size:
        raise LogMismatch(
            pcr=IMA_PCR,
            reason="quoted %s value has %d bytes"
            % (state.bank, len(quoted_pcr)),
        )
    if first_entry is None:
        first_entry = state.next_entry
    if first_entry < state.count:
        # The log is append-only until a TPM reset: entries already
        # accepted are never sent (and so never rewritten or cut) again.
        raise LogRewritten(
            pcr=IMA_PCR,
            reason="log resent from entry %d, but entries up to %d were "
            "accepted and the TPM was not reset"
            % (first_entry, state.count - 1),
        )
    if not 0 <= first_entry <= state.next_entry:
        raise LogMismatch(
            pcr=IMA_PCR,
            reason="log starts at entry %d but "
            "entries %d.. were never sent" % (first_entry, state.next_entry),
        )
    entries = _new_entries(text, state, first_entry, True)
    if more:
        return Verification((), replace(state, pending=tuple(entries)))
    pcr = state.pcr or bytes(size)
    accepted = -1 if pcr == quoted_pcr else None
    if accepted is None:
        ff = b"\xff" * size
        sha1_bank = state.bank == "sha1"
        for n, e in enumerate(entries):
            if e.pcr != IMA_PCR:
                raise LogMismatch(
                    pcr=e.pcr,
                    reason="entry %d extends a PCR "
                    "that is not verified" % e.index,
                )
            if e.template_hash == ima.ZERO_SHA1:
                value = ff
            elif sha1_bank:
                value = e.template_hash
            else:
                value = hasher(e.data).digest()
            pcr = hasher(pcr + value).digest()
            if pcr == quoted_pcr:
                accepted = n
                break
        else:
            raise LogMismatch(
                pcr=IMA_PCR,
                reason=(
                    "replaying entries %d-%d does not reach the quoted %s "
                    "value"
                    % (state.count, state.count + len(entries) - 1, state.bank)
                    if entries
                    else "no new entries, yet the quoted %s value changed"
                    % state.bank
                ),
            )
    done = tuple(entries[: accepted + 1])
    if state.count + len(done) == 0:
        # The kernel extends boot_aggregate into PCR 10 before anything
        # else: a quote with PCR 10 untouched means IMA is not measuring.
        raise ImaDisabled(
            pcr=IMA_PCR,
            reason="PCR 10 was never extended and no entry is accepted "
            "(%d sent)" % len(entries),
        )
    ba, verified = state.boot_aggregate, state.boot_verified
    if done and done[0].index == 0:
        ba, verified = _check_boot(done[0], boot_pcrs)
    new = ImaState(
        state.bank,
        state.count + len(done),
        pcr,
        ba,
        verified,
        tuple(entries[accepted + 1 :]),
        state.evaluations,
    )
    return Verification(done, new)


def _check_boot(entry: ima.Entry, boot_pcrs) -> tuple[str, bool]:
    if entry.path != ima.BOOT_AGGREGATE:
        raise BootAggregateMismatch(
            reason="entry 0 is %r, not boot_aggregate" % entry.path[:80]
        )
    if boot_pcrs is None:
        return entry.digest, False
    algo, _, hexdigest = entry.digest.partition(":")
    bank = boot_pcrs.get(algo)
    if bank is None:
        raise BootAggregateMismatch(
            reason="no %s PCR values to check it" % algo
        )
    expected = boot_aggregate(algo, bank)
    if expected.hex() != hexdigest:
        raise BootAggregateMismatch(
            reason="log has %s, PCRs give %s:%s"
            % (entry.digest, algo, expected.hex())
        )
    return entry.digest, True
