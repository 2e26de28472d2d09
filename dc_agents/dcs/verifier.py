"""Judge one attestation answer with the attestation core (Protocol 12.2).

Given the node's stored state, the nonce DC-S issued and the DC-C's
answer, :func:`judge` verifies the quote (signature, nonce, PCR selection
and digest, clock), replays the new IMA entries incrementally against the
quoted PCR 10, evaluates them against the current white-lists and computes
the node's RCoT.  It returns the new state and the verdict, or raises
:class:`NeedFullLog` when the incremental path cannot be taken (TPM reset,
changed white-lists) so the caller asks again from entry 0.  Failures of
the evidence raise the core's precise AttestationError.  No I/O.

A log too large for one message comes in chunks (``answer.ima_more``):
:func:`judge` verifies each partial answer's quote, parses and checks its
entries and returns a :class:`Progress` (no verdict) holding them
pending; the caller asks for the next chunk with a new nonce and passes
the Progress back.  The answer without ``ima_more`` replays everything
pending to its own quoted PCR 10 and is judged.
"""

import dataclasses
from collections.abc import Mapping
from collections.abc import Sequence
from types import MappingProxyType

from acaas_nova.attestation import chain
from acaas_nova.attestation import errors
from acaas_nova.attestation import ima_replay
from acaas_nova.attestation import quote
from acaas_nova.attestation import whitelist as whitelist_mod
from acaas_nova.attestation import whitelist_eval
from dc_agents.dcs.state import NodeState
from dc_agents.messages import QuoteAnswer

BOOT_PCRS = tuple(range(8))


class NeedFullLog(Exception):
    """The answer cannot be verified incrementally; ask from entry 0."""


@dataclasses.dataclass(frozen=True)
class Progress:
    """A verified partial answer: its entries are pending, no verdict.

    Kept in memory by the caller only (never stored): ``state`` has the
    clock of the last quote and the entries received so far pending.
    """

    state: NodeState
    chunks: int  #: partial answers received in this attestation
    log_bytes: int  #: IMA log text received in this attestation
    full: bool  #: started from entry 0 (a full replay)
    reboot: bool = False  #: the first quote showed a TPM reset

    @property
    def next_entry(self) -> int:
        """The entry the next chunk must start with."""
        return self.state.ima.next_entry


@dataclasses.dataclass(frozen=True)
class Verdict:
    trusted: bool
    state: NodeState
    whitelists: tuple[str, ...]
    rcot: str | None
    error: errors.AttestationError | None
    reboot: bool


def selection(bank: str) -> dict[str, list[int]]:
    """PCRs 0-10 of ``bank``: boot state, boot_aggregate, IMA."""
    return {bank: list(range(11))}


#: The same, read-only, per bank: the quote verifier caches its layout.
_SELECTIONS = {
    bank: MappingProxyType({bank: tuple(range(11))})
    for bank in ("sha1", "sha256", "sha384", "sha512")
}


def _evaluate(whitelists, accepted, boot, previous, start):
    if start > 0 and whitelist_eval.stale(whitelists, previous, start):
        raise NeedFullLog("white-lists changed since the last attestation")
    if accepted or start > 0:
        return whitelist_eval.evaluate(whitelists, accepted, boot, previous)
    # No IMA entries at all: nothing to extend, only the boot state.
    return {
        wl.name: whitelist_eval.Evaluation(
            wl.name,
            wl.version,
            wl.fingerprint,
            0,
            (),
            whitelist_eval.boot_reason(wl, boot),
        )
        for wl in whitelists
    }


def _failure(evaluations, previous: NodeState) -> errors.AttestationError:
    """Why no white-list is satisfied (preferring those that were)."""
    if not evaluations:
        return errors.MeasurementNotAllowed(
            whitelist="(none)", reason="no white-list is defined"
        )
    before = {r.name for r in previous.satisfied}
    names = sorted(evaluations, key=lambda n: (n not in before, n))
    return evaluations[names[0]].error()


#: RCoT values by their inputs: a node re-attested with the same boot
#: state and white-lists has the same RCoT, and computing it is a good
#: part of an unchanged re-attestation.  Bounded (cleared when full).
_RCOT_CACHE: dict[tuple, str | None] = {}
RCOT_CACHE_SIZE = 100_000


def _rcot(label, ak, bank, boot_pcrs, refs, properties):
    key = (
        label,
        ak.name,
        bank,
        tuple(boot_pcrs.items()),
        refs,
        frozenset(properties.items()),
    )
    value = _RCOT_CACHE.get(key, _MISSING)
    if value is _MISSING:
        value = chain.rcot(
            chain.NodeTrust(
                node=label,
                trusted=bool(refs),
                ak_name=ak.name,
                boot_bank=bank,
                boot_pcrs=boot_pcrs,
                whitelists=refs,
                capabilities=dict(properties),
            )
        ).value
        if len(_RCOT_CACHE) >= RCOT_CACHE_SIZE:
            _RCOT_CACHE.clear()
        _RCOT_CACHE[key] = value
    return value


_MISSING = object()


def judge(
    label: str,
    ak: quote.AttestationKey,
    state: NodeState,
    answer: QuoteAnswer,
    nonce: bytes,
    offset: int,
    whitelists: Sequence[whitelist_mod.Whitelist],
    properties: Mapping[str, str],
    full: bool = False,
    progress: Progress | None = None,
) -> Verdict | Progress:
    """Verify ``answer`` to a request for entries from ``offset`` on.

    ``full`` (with offset 0) replays and evaluates the whole log afresh.
    ``progress``: the chunks received so far in this attestation (the
    request asked from ``progress.next_entry``; ``full`` is then taken
    from it).  Returns a Progress for a partial answer.
    """
    bank = state.bank
    base = state if progress is None else progress.state
    if progress is not None:
        full = False  # entry 0 is already pending when it was asked for
    if answer.ima_offset != offset:
        raise errors.MalformedInput(
            what="attestation answer",
            reason="IMA entries start at %d, %d was asked"
            % (answer.ima_offset, offset),
        )
    result = quote.verify_quote(
        ak,
        answer.attest,
        answer.signature,
        answer.pcrs,
        nonce,
        _SELECTIONS.get(bank) or selection(bank),
        previous=base.clock,
    )
    reset = full or result.reboot or base.ima is None
    if reset and offset != 0:
        raise NeedFullLog("TPM reset: the whole log must be replayed")
    start = 0 if reset else base.ima_count
    previous = {} if reset else base.evaluations
    if answer.ima_more:
        if not answer.ima_log:
            raise errors.MalformedInput(
                what="attestation answer",
                reason="a partial answer without IMA entries",
            )
        if start > 0 and whitelist_eval.stale(whitelists, previous, start):
            raise NeedFullLog("white-lists changed since the last attestation")
    replay = ima_replay.verify(
        answer.ima_log,
        result.pcrs[bank][ima_replay.IMA_PCR],
        None if reset else base.ima,
        first_entry=offset,
        boot_pcrs=result.pcrs,
        reset=reset,
        bank=bank,
        more=answer.ima_more,
    )
    if answer.ima_more:
        return Progress(
            state=dataclasses.replace(
                base,
                clock=result.clock_info,
                ima=replay.state,
                evaluations=previous,
            ),
            chunks=(progress.chunks if progress else 0) + 1,
            log_bytes=(progress.log_bytes if progress else 0)
            + len(answer.ima_log),
            full=reset or (progress is not None and progress.full),
            reboot=result.reboot or (progress is not None and progress.reboot),
        )
    boot = whitelist_eval.BootState(replay.state.boot_aggregate, result.pcrs)
    evaluations = _evaluate(whitelists, replay.accepted, boot, previous, start)
    refs = frozenset(
        chain.WhitelistRef(*t) for t in whitelist_eval.satisfied(evaluations)
    )
    boot_pcrs = {i: result.pcrs[bank][i] for i in BOOT_PCRS}
    new_state = NodeState(
        bank=bank,
        clock=result.clock_info,
        ima=dataclasses.replace(replay.state, pending=(), evaluations={}),
        evaluations=evaluations,
        boot_pcrs=boot_pcrs,
        satisfied=refs,
    )
    rcot = _rcot(label, ak, bank, boot_pcrs, refs, properties)
    return Verdict(
        trusted=bool(refs),
        state=new_state,
        whitelists=tuple(sorted({r.name for r in refs})),
        rcot=rcot,
        error=None if refs else _failure(evaluations, state),
        reboot=result.reboot or (progress is not None and progress.reboot),
    )
