"""Evaluate a measurement list against white-lists, incrementally.

A list *satisfies* a white-list iff every entry after boot_aggregate is
either excluded by a pattern or has a digest allowed for its path, and the
boot state is approved: the log's boot_aggregate is among the allowed ones
(if the white-list lists any) and the quoted PCR 0-7 equal an approved
configuration in every bank both carry (if it lists any).  A violation
entry is never allowed, exclusions notwithstanding.  A list that records
nothing after boot_aggregate (IMA measuring nothing) satisfies no
white-list, whatever its boot values: trust needs measured files.  Every
offending entry is reported, not just the first.

An :class:`Evaluation` covers entries ``0..entries-1``; evaluating the next
entries extends it as long as the white-list content (fingerprint) is the
same, so a re-attestation costs only its new entries.  Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass

from acaas_nova.attestation import ima
from acaas_nova.attestation.errors import MeasurementNotAllowed
from acaas_nova.attestation.whitelist import Whitelist
from acaas_nova.exception import Invalid


@dataclass(frozen=True)
class Offence:
    """One entry a white-list does not allow."""

    index: int
    path: str
    digest: str
    reason: str  #: "unknown path", "digest not allowed" or "violation"


@dataclass(frozen=True)
class BootState:
    """The boot state a quote proved: boot_aggregate and PCR 0-7."""

    boot_aggregate: str | None  #: "algo:hex" from entry 0 of the log
    pcrs: Mapping[str, Mapping[int, bytes]]  #: bank -> {index: value}


@dataclass(frozen=True)
class Evaluation:
    """The result of one white-list over log entries ``0..entries-1``."""

    whitelist: str
    version: str
    fingerprint: str
    entries: int
    offending: tuple[Offence, ...]
    boot_reason: str  #: "" when the boot state is approved

    @property
    def satisfied(self) -> bool:
        return not self.offending and not self.boot_reason

    def error(self) -> MeasurementNotAllowed | None:
        """The failure to raise or record, or None if satisfied."""
        if self.satisfied:
            return None
        parts = ["%d entries not allowed" % len(self.offending)]
        parts.extend(
            "%s %s (%s)" % (o.path, o.digest, o.reason)
            for o in self.offending[:5]
        )
        if self.boot_reason:
            parts.insert(0, self.boot_reason)
        exc = MeasurementNotAllowed(
            whitelist="%s/%s" % (self.whitelist, self.version),
            reason="; ".join(parts),
        )
        exc.offending = [(o.path, o.digest) for o in self.offending]
        return exc


def boot_reason(whitelist: Whitelist, boot: BootState) -> str:
    """Why the boot state is not approved ("" if it is).

    A log without boot_aggregate (IMA off, or a log that does not start
    where the kernel's does) is never approved, whatever the PCRs.
    """
    if boot.boot_aggregate is None:
        return "the measurement list has no boot_aggregate (IMA disabled?)"
    if whitelist.boot_aggregates and (
        boot.boot_aggregate not in whitelist.boot_aggregates
    ):
        return "boot_aggregate %s not approved" % boot.boot_aggregate
    if whitelist.boot_configs and not any(
        _config_matches(c, boot.pcrs) for c in whitelist.boot_configs
    ):
        return "PCR 0-7 match no approved boot configuration"
    return ""


#: Why a list of boot_aggregate alone is never trusted.
NOTHING_MEASURED = (
    "the measurement list records nothing after boot_aggregate "
    "(an IMA policy that measures nothing?)"
)


def _config_matches(config, pcrs) -> bool:
    common = [bank for bank in config if bank in pcrs]
    return bool(common) and all(
        pcrs[bank].get(i) == value
        for bank in common
        for i, value in config[bank].items()
    )


def offences(
    whitelist: Whitelist, entries: Iterable[ima.Entry]
) -> list[Offence]:
    """Every entry of ``entries`` the white-list does not allow."""
    digests = whitelist.digests
    excluded = whitelist.excluded
    found = []
    for e in entries:
        if e.index == 0 and e.path == ima.BOOT_AGGREGATE:
            continue  # judged with the boot state
        allowed = digests.get(e.path)
        if allowed is not None and e.digest in allowed and not e.violation:
            continue
        # A violation's path is not integrity-protected (the file changed
        # while open), and a listed path is one the author means to check:
        # exclusions cover neither.
        if not e.violation and allowed is None and excluded(e.path):
            continue
        reason = (
            "violation"
            if e.violation
            else "unknown path"
            if allowed is None
            else "digest not allowed"
        )
        found.append(Offence(e.index, e.path, e.digest, reason))
    return found


def stale(
    whitelists: Iterable[Whitelist],
    previous: Mapping[str, Evaluation],
    next_index: int,
) -> list[str]:
    """Names of white-lists whose evaluation cannot be extended from
    ``next_index`` (new or changed since): they need the log from 0."""
    if next_index == 0:
        return []  # evaluating from entry 0 needs nothing from before
    out = []
    for wl in whitelists:
        prev = previous.get(wl.name)
        if (
            prev is None
            or prev.fingerprint != wl.fingerprint
            or prev.entries != next_index
        ):
            out.append(wl.name)
    return out


def evaluate(
    whitelists: Iterable[Whitelist],
    entries: Sequence[ima.Entry],
    boot: BootState,
    previous: Mapping[str, Evaluation] | None = None,
    start: int | None = None,
) -> dict[str, Evaluation]:
    """Evaluate new log entries against several white-lists at once.

    ``entries`` are consecutive from entry ``start`` (default: the first
    entry's index; with no entries, where ``previous`` ended).  Unless
    ``start`` is 0, each white-list needs a ``previous`` evaluation that
    ends there (see :func:`stale`).  Returns name -> Evaluation covering
    the whole log so far.  Raises Invalid if one cannot be extended.
    """
    previous = previous or {}
    if start is None:
        start = entries[0].index if entries else None
    elif entries and entries[0].index != start:
        raise Invalid(
            reason="entries start at %d, not %d" % (entries[0].index, start)
        )
    out = {}
    for wl in whitelists:
        prev = previous.get(wl.name)
        if prev is not None and prev.fingerprint != wl.fingerprint:
            prev = None
        if start == 0:
            prev = None
        base = prev.entries if prev is not None else 0
        if start is not None and start != base:
            raise Invalid(
                reason="white-list %s was evaluated up to entry %d"
                ", cannot extend from entry %d; re-verify the "
                "whole log" % (wl.name, base, start)
            )
        if prev is None and start is None:
            raise Invalid(
                reason="white-list %s has no evaluation and no "
                "entries to evaluate" % wl.name
            )
        found = offences(wl, entries)
        total = base + len(entries)
        out[wl.name] = Evaluation(
            wl.name,
            wl.version,
            wl.fingerprint,
            total,
            (prev.offending if prev is not None else ()) + tuple(found),
            boot_reason(wl, boot) or (NOTHING_MEASURED if total < 2 else ""),
        )
    return out


def satisfied(
    evaluations: Mapping[str, Evaluation],
) -> list[tuple[str, str, str]]:
    """Sorted (name, version, fingerprint) of the white-lists satisfied."""
    return sorted(
        (e.whitelist, e.version, e.fingerprint)
        for e in evaluations.values()
        if e.satisfied
    )
