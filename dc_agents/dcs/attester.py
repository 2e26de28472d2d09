"""One attestation of one node, end to end (the chapter's Protocol 12.2).

DC-S sends a fresh nonce, the DC-C answers with a quote of PCRs 0-10 and
its IMA entries since the last accepted one; :mod:`verifier` judges the
answer and this module records the outcome:

* verified and at least one white-list satisfied: ``trusted``, with RCoT,
  white-lists and the time;
* any verification failure (or a platform change the agent reports):
  ``untrusted`` at once, the registration is revoked -- the node must
  register again (the chapter: removed, must re-enrol);
* no answer within ``[dcs] attestation_deadline``, the agent cannot
  quote, or an answer larger than DC-S takes: ``unknown`` (the scheduler
  fails closed on it); attestation goes on, and the node becomes trusted
  again when it answers correctly.

An IMA log longer than one answer (``[dcc] max_log_bytes``) comes in
chunks: each partial answer's quote is verified (its own fresh nonce) and
its entries checked and kept pending in memory, the next chunk is asked
for at once, and the last answer is judged over all of them.  Bounded by
``[dcs] max_ima_log_bytes`` and ``max_log_chunks`` per attestation
(beyond: ``unknown``).

Status changes are events and trigger the recomputation of the node's
domain chains of trust.  A node's status, RCoT, white-lists and the event
that records the change commit in one transaction; the domain's chains
are recomputed after it commits (under their lock, from committed member
states).  A recomputation that fails (the database went away) is retried
at every round sweep until it succeeds, and a DC-S killed between the two
repairs every domain's chains at its next start (:func:`chains.repair`)
before it serves: no DCoT outlives the member states it was computed from.
"""

import dataclasses
import datetime
import functools
import logging
import os
import threading
import time
from typing import Any

import oslo_messaging

from acaas_nova import context as acaas_context
from acaas_nova import exception
from acaas_nova.attestation import channel
from acaas_nova.attestation import errors as att_errors
from acaas_nova.attestation import quote
from acaas_nova.attestation import whitelist as whitelist_mod
from acaas_nova.db import api as db_api
from acaas_nova.db import attestation as attestation_db
from acaas_nova.db import records
from acaas_nova.db import whitelists as whitelists_db
from dc_agents import errors
from dc_agents import messages
from dc_agents import rpc
from dc_agents.dcs import chains
from dc_agents.dcs import dbwrite
from dc_agents.dcs import eventlog
from dc_agents.dcs import state as state_mod
from dc_agents.dcs import verifier

LOG = logging.getLogger(__name__)
WHITELIST_CACHE_SECONDS = 5.0
#: Answers that make the node untrusted (an answer too large for DC-S,
#: MessageTooLarge, makes it unknown: it is no evidence of anything).
_REFUSED = (
    exception.AttestationError,
    errors.MalformedMessage,
    errors.NotRegistered,
)


class WhitelistCache:
    """The newest white-lists, parsed once per content, re-read every few
    seconds (not on every attestation: documents can be large)."""

    def __init__(self, ttl: float = WHITELIST_CACHE_SECONDS) -> None:
        self.ttl = ttl
        self._parsed: dict[str, whitelist_mod.Whitelist] = {}
        self._current: list[whitelist_mod.Whitelist] = []
        self._loaded = -1e9
        self._lock = threading.Lock()

    def get(self, context) -> list[whitelist_mod.Whitelist]:
        with self._lock:
            if time.monotonic() - self._loaded < self.ttl:
                return self._current
            parsed = {}
            for row in whitelists_db.whitelist_latest(context):
                wl = self._parsed.get(row.digest)
                if wl is None:
                    try:
                        wl = whitelist_mod.load(row.content)
                    except exception.ACaaSException as exc:
                        LOG.error("Ignoring white-list %s: %s", row.name, exc)
                        continue
                parsed[row.digest] = wl
            self._parsed = parsed
            self._current = list(parsed.values())
            self._loaded = time.monotonic()
            return self._current


def _serialised(method):
    """Run a recording method under the SQLite write lock (dbwrite)."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with dbwrite.writing():
            return method(*args, **kwargs)

    return wrapper


#: Returned by Attester._conclude when the whole IMA log must be asked for.
NEED_FULL = object()
#: Returned by Attester.round_answer for an answer overtaken by another
#: attestation of the same node (nothing recorded).
SUPERSEDED = object()


def _material(old: state_mod.NodeState, new: state_mod.NodeState) -> bool:
    """Whether ``new`` differs from ``old`` in more than the TPM clock.

    A clock-only change is not stored at every attestation: every round's
    nonce is fresh and single-use, so the stored clock is only needed to
    detect a TPM reset (reset/restart counts: those are material) after a
    DC-S restart, and an older stored clock still serves that.
    """
    if old.clock is None or new.clock is None:
        return True
    return (
        (old.clock.reset_count, old.clock.restart_count)
        != (new.clock.reset_count, new.clock.restart_count)
        or old.ima != new.ima
        or old.boot_pcrs != new.boot_pcrs
        or old.satisfied != new.satisfied
        or old.evaluations != new.evaluations
    )


def _ident(host, hypervisor):
    return host if host == hypervisor else "%s:%s" % (host, hypervisor)


class Attester:
    """Attests nodes through a DCCAPI-like client (``quote``)."""

    def __init__(self, conf, dcc_api) -> None:
        self.conf = conf
        self.api = dcc_api
        self.whitelists = WhitelistCache()
        self._keys: dict[bytes, quote.AttestationKey] = {}
        # Registrations of nodes being attested, so that a re-attestation
        # with an unchanged outcome costs one UPDATE.  Every path that
        # changes a registration in this process drops its entry; a
        # change from elsewhere makes attestation_touch fail, which does
        # too.
        self._registrations: dict[tuple[str, str], Any] = {}
        # Their decoded verifier state: authoritative while the entry above
        # exists (the stored copy may lag by TPM clock ticks only, see
        # _material).
        self._states: dict[tuple[str, str], state_mod.NodeState] = {}
        self._full: set[tuple[str, str]] = set()  # must send the whole log
        # Nodes unknown because their answer was too large, with the event
        # recorded: one event, also for a node that was already unknown
        # (a new registration), not one every interval.
        self._too_large: set[tuple[str, str]] = set()
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._chain_lock = threading.Lock()
        # Domains whose recomputation failed after a status change was
        # committed: retried by repair_stale() until it succeeds.
        self._stale: set[str] = set()

    def _recompute(self, ctx, domain) -> None:
        """Recompute a domain's chains, one recomputation at a time: each
        reads what was committed before it started, so the last one to
        run sees every change (concurrent ones could store a value
        computed from older member states).  On a database error the
        domain is remembered as stale (repair_stale retries it)."""
        with self._chain_lock:
            try:
                chains.recompute(ctx, domain)
            except exception.ACaaSException as exc:
                self._stale.add(domain)
                LOG.error(
                    "Chains of domain %s not recomputed, will retry: %s",
                    domain,
                    exc,
                )
            else:
                self._stale.discard(domain)

    def repair_stale(self, ctx) -> int:
        """Recompute the chains of every domain whose recomputation
        failed; returns how many are still stale."""
        for domain in sorted(self._stale):
            self._recompute(ctx, domain)
        return len(self._stale)

    def _node_lock(self, key) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(key, threading.Lock())

    def _ak(self, public: bytes) -> quote.AttestationKey:
        ak = self._keys.get(public)
        if ak is None:
            ak = self._keys[public] = quote.AttestationKey.from_tpm2b_public(
                public
            )
        return ak

    def attest(self, key) -> dict | None:
        """Attest node ``key`` = (host, hypervisor); None if unregistered.

        Returns {"host", "status", "detail"}.
        """
        with self._node_lock(tuple(key)):
            return self._attest(acaas_context.get_admin_context(), *key)

    def preload(self, ctx) -> list[tuple[str, str]]:
        """Cache every registered node's registration in one read (at
        start); returns their keys.  Safe like any cached registration:
        the writes check the CID (and status, for unchanged outcomes)."""
        keys = []
        for reg in attestation_db.registrations_all(ctx):
            if reg.registered:
                key = (reg.host, reg.hypervisor_hostname)
                self._registrations[key] = reg
                keys.append(key)
        return keys

    def forget(self, host, hypervisor) -> None:
        """Drop the cached registration of a node (it changed)."""
        self._registrations.pop((host, hypervisor), None)
        self._states.pop((host, hypervisor), None)

    def _snapshot(self, ctx, key):
        """(registration, decoded state) of a registered node, or None."""
        reg = self._registrations.get(key)
        st = self._states.get(key) if reg is not None else None
        if reg is None:
            try:
                reg = attestation_db.registration_get(ctx, *key)
            except exception.NotFound:
                return None
        if not reg.registered or not reg.channel_key:
            # No channel key (registered before keys existed): it cannot
            # be asked or heard; it must register again.
            return None
        if st is None:
            st = state_mod.load(reg.state, self.conf.dcs.pcr_bank)
        return reg, st

    def _attest(self, ctx, host, hv):
        snap = self._snapshot(ctx, (host, hv))
        if snap is None:
            return None
        reg, st = snap
        return self._fetch(ctx, reg, st, False, None)

    def _fetch(self, ctx, reg, st, full, progress, batch=None, stopped=None):
        """Ask node ``reg`` for quotes until an answer concludes, and
        record the outcome.  One request per chunk of a long IMA log,
        each with a fresh nonce, from the entry after the last one
        received (``progress``: the chunks received so far); a request
        for the whole log once if the incremental path cannot be taken.
        ``stopped``: returns true when DC-S stops (the rest is dropped,
        nothing recorded)."""
        host, hv = reg.host, reg.hypervisor_hostname
        while True:
            if stopped is not None and stopped():
                return SUPERSEDED
            if progress is None:
                offset = 0 if full else st.ima_count
            else:
                offset = progress.next_entry
            nonce = os.urandom(32)
            try:
                raw = self.api.quote(
                    host,
                    hv,
                    nonce,
                    verifier.selection(st.bank),
                    offset,
                    self.conf.dcs.attestation_deadline,
                    key=reg.channel_key,
                )
                raw = self._authentic(ctx, reg, nonce, raw)
            except oslo_messaging.MessagingTimeout:
                return self._unknown(
                    ctx,
                    reg,
                    eventlog.NO_ANSWER,
                    "no answer within %ss"
                    % self.conf.dcs.attestation_deadline,
                )
            except att_errors.ChannelError as exc:
                # Not the node's answer: ignored, not judged (an event
                # every time, not only when the status changes).
                eventlog.record_error(ctx, _ident(host, hv), exc)
                return self._unknown(ctx, reg, None, exc.message)
            except att_errors.PlatformChanged as exc:
                # A reply carries no MAC: only the agent's authenticated
                # platform_changed (or round answer) revokes the node.
                return self._unknown(
                    ctx, reg, eventlog.AGENT_ERROR, exc.message
                )
            except (
                exception.ACaaSException,
                oslo_messaging.MessagingException,
            ) as exc:
                return self._unknown(
                    ctx, reg, eventlog.AGENT_ERROR, rpc.remote_message(exc)
                )
            result = self._conclude(
                ctx, reg, st, raw, nonce, offset, full, batch, progress
            )
            if result is NEED_FULL:
                if full or (progress is not None and progress.full):
                    return self._unknown(
                        ctx,
                        reg,
                        eventlog.AGENT_ERROR,
                        "log could not be verified",
                    )
                full, progress = True, None
            elif isinstance(result, verifier.Progress):
                progress = result
            else:
                return result

    def _authentic(self, ctx, reg, nonce, raw):
        """The quote answer ``raw`` without its MAC, if the MAC is the
        node's over this nonce (ChannelError otherwise)."""
        node = _ident(reg.host, reg.hypervisor_hostname)
        channel.verify(reg.channel_key, "quote_answer", node, nonce.hex(), raw)
        return {k: v for k, v in raw.items() if k != channel.MAC_FIELD}

    def round_verify(self, ask, signed) -> None:
        """Check the MAC of a round answer (the RPC arguments as sent)
        against ``ask``: the node's key and this ask's nonce.  Raises
        ChannelError; needs no database read (the key came with the ask).
        """
        reg = ask.context[0]
        if not isinstance(signed, dict):
            raise att_errors.ChannelMacMissing(reason="round_answer")
        channel.verify(
            reg.channel_key,
            "round_answer",
            ask.node,
            ask.nonce.hex(),
            signed,
        )

    def _conclude(
        self,
        ctx,
        reg,
        st,
        raw,
        nonce,
        offset,
        full,
        batch=None,
        progress=None,
    ):
        """Judge the answer ``raw`` to (nonce, offset, full) and record the
        outcome; NEED_FULL when the whole log must be asked for; a
        verifier.Progress (nothing recorded) for a partial answer, whose
        next chunk must be asked for.  ``progress``: the chunks received
        before this answer."""
        node = _ident(reg.host, reg.hypervisor_hostname)
        try:
            answer = messages.parse_quote_answer(
                raw, self.conf.dcs.max_message_bytes
            )
            if answer.cid != reg.cid:
                raise errors.NotRegistered(
                    node=node,
                    reason="the agent answers for CID %s" % answer.cid,
                )
            self._check_limits(node, answer, progress)
            verdict = verifier.judge(
                node,
                self._ak(reg.ak_public),
                st,
                answer,
                nonce,
                offset,
                self.whitelists.get(ctx),
                reg.properties,
                full=full,
                progress=progress,
            )
        except verifier.NeedFullLog as why:
            LOG.debug("Node %s: full log needed (%s)", node, why)
            return NEED_FULL
        except errors.MessageTooLarge as exc:
            # Not evidence against the node: more than DC-S takes.
            return self._unknown(ctx, reg, eventlog.TOO_LARGE, exc.message)
        except _REFUSED as exc:
            return self._untrusted(ctx, reg, exc)
        if isinstance(verdict, verifier.Progress):
            LOG.debug(
                "Node %s: IMA log chunk %d verified, %d entries pending, "
                "asking from entry %d",
                node,
                verdict.chunks,
                len(verdict.state.ima.pending),
                verdict.next_entry,
            )
            return verdict
        if not verdict.trusted:
            return self._untrusted(ctx, reg, verdict.error)
        return self._trusted(ctx, reg, st, verdict, answer.domain, batch)

    def _check_limits(self, node, answer, progress) -> None:
        """LogTooLarge if this answer makes the attestation exceed
        ``[dcs] max_ima_log_bytes`` or ``max_log_chunks``."""
        chunks = (progress.chunks if progress else 0) + 1
        received = (progress.log_bytes if progress else 0) + len(
            answer.ima_log
        )
        limit = self.conf.dcs.max_ima_log_bytes
        if received > limit:
            raise errors.LogTooLarge(
                node=node,
                reason="%d bytes in %d answers exceed [dcs] "
                "max_ima_log_bytes (%d)" % (received, chunks, limit),
            )
        if answer.ima_more and chunks >= self.conf.dcs.max_log_chunks:
            raise errors.LogTooLarge(
                node=node,
                reason="still incomplete after [dcs] max_log_chunks (%d) "
                "answers, %d bytes" % (chunks, received),
            )

    # -- rounds (dc_agents.dcs.roundrunner) ---------------------------------

    def round_ask(self, ctx, key):
        """(context, offset, full) to ask node ``key`` in a round, where
        ``context`` is handed back to round_answer; None if unregistered."""
        snap = self._snapshot(ctx, key)
        if snap is None:
            return None
        full = key in self._full
        return snap, 0 if full else snap[1].ima_count, full

    def likely_changed(self, ask) -> bool:
        """Whether answering ``ask`` will probably change the node's
        record (it was not trusted with a cached registration)."""
        reg = self._registrations.get(ask.key)
        return reg is None or reg.status != records.TRUST_TRUSTED

    def round_answer(self, ctx, ask, raw, error, batch):
        """Record the outcome of a node's answer to a round ``ask``: like
        attest(), but unchanged trusted outcomes go to ``batch``.  Returns
        the result, None (not registered any more), NEED_FULL (ask again
        for the whole log), SUPERSEDED (the node was attested by another
        path since the ask: nothing recorded) or a verifier.Progress (a
        partial answer, nothing recorded: pass it to follow_up)."""
        with self._node_lock(ask.key):
            reg, st = ask.context
            current = self._states.get(ask.key)
            if current is not None and current is not st:
                # Attested meanwhile by another path (attest_host, a
                # registration): this answer may predate that quote, and
                # the node has a fresher outcome anyway.
                LOG.debug("Round answer of %s superseded", ask.node)
                return SUPERSEDED
            reg = self._registrations.get(ask.key, reg)
            if error is not None:
                kind, message = error
                if kind == "platform_changed":
                    return self._untrusted(
                        ctx, reg, att_errors.PlatformChanged(reason=message)
                    )
                return self._unknown(ctx, reg, eventlog.AGENT_ERROR, message)
            result = self._conclude(
                ctx, reg, st, raw, ask.nonce, ask.offset, ask.full, batch
            )
            if result is NEED_FULL:
                self._full.add(ask.key)
            elif not isinstance(result, verifier.Progress):
                self._full.discard(ask.key)
            return result

    def follow_up(self, ctx, ask, progress, batch=None, stopped=None):
        """Fetch the rest of the IMA log whose first chunk answered the
        round ``ask`` (``progress``, from round_answer) through the
        per-node ``quote`` path, one fresh nonce per chunk, and record
        the outcome like round_answer (SUPERSEDED if the node was
        attested by another path meanwhile)."""
        with self._node_lock(ask.key):
            reg, st = ask.context
            current = self._states.get(ask.key)
            if current is not None and current is not st:
                LOG.debug("Follow-up of %s superseded", ask.node)
                return SUPERSEDED
            reg = self._registrations.get(ask.key, reg)
            result = self._fetch(
                ctx, reg, st, ask.full, progress, batch, stopped
            )
            self._full.discard(ask.key)
            return result

    def round_expired(self, ctx, ask) -> dict | None:
        """A round ``ask`` got no answer in time: the node is unknown."""
        with self._node_lock(ask.key):
            reg = self._registrations.get(ask.key, ask.context[0])
            return self._unknown(
                ctx,
                reg,
                eventlog.NO_ANSWER,
                "no answer within %ss" % self.conf.dcs.attestation_deadline,
            )

    @_serialised
    def _trusted(self, ctx, reg, st, verdict, declared_domain, batch=None):
        node = _ident(reg.host, reg.hypervisor_hostname)
        key = (reg.host, reg.hypervisor_hostname)
        self._too_large.discard(key)
        now = datetime.datetime.now(datetime.UTC)
        detail = "white-lists %s" % ", ".join(verdict.whitelists)
        result = {
            "host": node,
            "status": records.TRUST_TRUSTED,
            "detail": detail,
        }
        unchanged = (
            reg.status == records.TRUST_TRUSTED
            and (reg.rcot, reg.whitelists)
            == (verdict.rcot, verdict.whitelists)
            and key in self._registrations
        )
        if unchanged and batch is not None:
            # Only the time (and maybe the state) to write: in a batch.
            material = _material(st, verdict.state)
            dumped = state_mod.dump(verdict.state) if material else None
            batch.add(
                key, (reg.host, reg.hypervisor_hostname, reg.cid, dumped)
            )
            self._states[key] = verdict.state
            return result
        dumped = state_mod.dump(verdict.state)
        if unchanged:
            if attestation_db.attestation_touch(
                ctx, reg.host, reg.hypervisor_hostname, reg.cid, dumped, now
            ):
                self._registrations[key] = dataclasses.replace(
                    reg, state=dumped
                )
                self._states[key] = verdict.state
                return result
            self.forget(*key)  # changed elsewhere: take the full path
            reg = attestation_db.registration_get(ctx, *key)
        with db_api.transaction(ctx):
            saved = attestation_db.attestation_save(
                ctx,
                reg.host,
                reg.hypervisor_hostname,
                reg.cid,
                records.TRUST_TRUSTED,
                dumped,
                verdict.rcot,
                verdict.whitelists,
                now,
            )
            if saved is not None and reg.status != records.TRUST_TRUSTED:
                eventlog.record(
                    ctx, node, eventlog.TRUSTED, "trusted: " + detail
                )
        if saved is None:
            self.forget(*key)
            return None
        changed, domain = saved
        self._registrations[key] = dataclasses.replace(
            reg,
            status=records.TRUST_TRUSTED,
            rcot=verdict.rcot,
            whitelists=verdict.whitelists,
            state=dumped,
            domain=domain,
        )
        self._states[key] = verdict.state
        if changed and domain:
            self._recompute(ctx, domain)
        if changed and declared_domain and declared_domain != domain:
            self._declared_domain_ignored(ctx, reg, declared_domain, domain)
        return result

    def _declared_domain_ignored(self, ctx, reg, declared, domain):
        """A node never puts itself in a domain: the domain it declares
        (``[dcc] domain``) is compared with the operator's and, when they
        differ, ignored with an event (once per change of its trust)."""
        eventlog.record(
            ctx,
            _ident(reg.host, reg.hypervisor_hostname),
            eventlog.DOMAIN_IGNORED,
            "the node declares domain %s ([dcc] domain); ignored: %s"
            % (
                declared,
                "the operator put it in domain %s" % domain
                if domain
                else "an operator puts nodes in domains (acaas-manage "
                "domain host add)",
            ),
        )

    @_serialised
    def _untrusted(self, ctx, reg, exc, message=None):
        node = _ident(reg.host, reg.hypervisor_hostname)
        self.forget(reg.host, reg.hypervisor_hostname)
        self._too_large.discard((reg.host, reg.hypervisor_hostname))
        if message is None:
            # The event and the revocation: one transaction.
            with db_api.transaction(ctx):
                saved = self._revoke_write(ctx, node, reg, exc)
        else:
            key, count = message
            # The counter, the event and the revocation: one transaction.
            with db_api.transaction(ctx):
                if not attestation_db.channel_accept(
                    ctx, reg.host, reg.hypervisor_hostname, reg.cid, key, count
                ):
                    raise att_errors.ChannelReplay(
                        reason="counter %d not above the last accepted" % count
                    )
                saved = self._revoke_write(ctx, node, reg, exc)
        if saved is not None and saved[1]:
            self._recompute(ctx, saved[1])
        return {
            "host": node,
            "status": records.TRUST_UNTRUSTED,
            "detail": exc.message,
        }

    def _revoke_write(self, ctx, node, reg, exc):
        event = eventlog.record_error(ctx, node, exc)
        return attestation_db.attestation_save(
            ctx,
            reg.host,
            reg.hypervisor_hostname,
            reg.cid,
            records.TRUST_UNTRUSTED,
            failure_event_id=event,
            revoke=True,
        )

    @_serialised
    def _unknown(self, ctx, reg, event, detail):
        node = _ident(reg.host, reg.hypervisor_hostname)
        key = (reg.host, reg.hypervisor_hostname)
        cached = key in self._registrations
        self._registrations.pop(key, None)
        event_row = None
        if event is eventlog.TOO_LARGE:
            first = key not in self._too_large
            self._too_large.add(key)
        else:
            first = False
            self._too_large.discard(key)
        with db_api.transaction(ctx):
            if event is not None and (
                reg.status != records.TRUST_UNKNOWN or first
            ):
                event_row = eventlog.record(ctx, node, event, detail)
            else:
                LOG.debug("Node %s still unknown: %s", node, detail)
            saved = attestation_db.attestation_save(
                ctx,
                reg.host,
                reg.hypervisor_hostname,
                reg.cid,
                records.TRUST_UNKNOWN,
                failure_event_id=event_row,
            )
        if saved is None:
            self.forget(*key)
        elif cached:
            # Still registered: keep it cached as written (a node that
            # does not answer costs no read at its next round).  Its
            # verifier state did not change: nothing was verified.
            self._registrations[key] = dataclasses.replace(
                reg, status=records.TRUST_UNKNOWN, rcot=None, whitelists=()
            )
        if saved is not None and saved[0] and saved[1]:
            self._recompute(ctx, saved[1])
        return {
            "host": node,
            "status": records.TRUST_UNKNOWN,
            "detail": detail,
        }

    def revoke(self, ctx, host, hv, cid, exc, message=None) -> dict | None:
        """Mark a node untrusted because of ``exc`` (e.g. the agent's own
        platform-changed report); None if ``cid`` is not its registration.

        ``message`` = (channel key, counter) of the authenticated message
        that asks for it: the counter is accepted in the same transaction
        as the revocation, or ChannelReplay is raised and nothing changes
        (two workers handed the same message: one revokes).
        """
        with self._node_lock((host, hv)):
            try:
                reg = attestation_db.registration_get(ctx, host, hv)
            except exception.NotFound:
                return None
            if not reg.registered or reg.cid != cid:
                return None
            return self._untrusted(ctx, reg, exc, message)

    def timer_job(self, key) -> bool:
        """The periodic job: False stops the node's timer (unregistered or
        revoked: it must register again)."""
        result = self.attest(key)
        return result is not None and result["status"] != (
            records.TRUST_UNTRUSTED
        )
