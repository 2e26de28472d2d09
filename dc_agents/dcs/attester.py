"""One attestation of one node, end to end (the chapter's Protocol 12.2).

DC-S sends a fresh nonce, the DC-C answers with a quote of PCRs 0-10 and
its IMA entries since the last accepted one; :mod:`verifier` judges the
answer and this module records the outcome:

* verified and at least one white-list satisfied: ``trusted``, with RCoT,
  white-lists and the time;
* any verification failure (or a platform change the agent reports):
  ``untrusted`` at once, the registration is revoked -- the node must
  register again (the chapter: removed, must re-enrol);
* no answer within ``[dcs] attestation_deadline``, or the agent cannot
  quote: ``unknown`` (the scheduler fails closed on it); attestation goes
  on, and the node becomes trusted again when it answers correctly.

Status changes are events and trigger the recomputation of the node's
domain chains of trust.
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
from acaas_nova.attestation import errors as att_errors
from acaas_nova.attestation import quote
from acaas_nova.attestation import whitelist as whitelist_mod
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
_REFUSED = (
    exception.AttestationError,
    errors.MalformedMessage,
    errors.MessageTooLarge,
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
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._locks_lock = threading.Lock()

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

    def forget(self, host, hypervisor) -> None:
        """Drop the cached registration of a node (it changed)."""
        self._registrations.pop((host, hypervisor), None)

    def _attest(self, ctx, host, hv):
        reg = self._registrations.get((host, hv))
        if reg is None:
            try:
                reg = attestation_db.registration_get(ctx, host, hv)
            except exception.NotFound:
                return None
        if not reg.registered:
            return None
        node = _ident(host, hv)
        st = state_mod.load(reg.state, self.conf.dcs.pcr_bank)
        full = False
        for _attempt in range(2):
            offset = 0 if full else st.ima_count
            nonce = os.urandom(32)
            try:
                raw = self.api.quote(
                    host,
                    hv,
                    nonce,
                    verifier.selection(st.bank),
                    offset,
                    self.conf.dcs.attestation_deadline,
                )
            except oslo_messaging.MessagingTimeout:
                return self._unknown(
                    ctx,
                    reg,
                    eventlog.NO_ANSWER,
                    "no answer within %ss"
                    % self.conf.dcs.attestation_deadline,
                )
            except att_errors.PlatformChanged as exc:
                return self._untrusted(ctx, reg, exc)
            except (
                exception.ACaaSException,
                oslo_messaging.MessagingException,
            ) as exc:
                return self._unknown(
                    ctx, reg, eventlog.AGENT_ERROR, rpc.remote_message(exc)
                )
            try:
                answer = messages.parse_quote_answer(
                    raw, self.conf.dcs.max_message_bytes
                )
                if answer.cid != reg.cid:
                    raise errors.NotRegistered(
                        node=node,
                        reason="the agent answers for CID %s" % answer.cid,
                    )
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
                )
            except verifier.NeedFullLog as why:
                LOG.debug("Node %s: full log needed (%s)", node, why)
                full = True
                continue
            except _REFUSED as exc:
                return self._untrusted(ctx, reg, exc)
            break
        else:
            return self._unknown(
                ctx, reg, eventlog.AGENT_ERROR, "log could not be verified"
            )
        if not verdict.trusted:
            return self._untrusted(ctx, reg, verdict.error)
        return self._trusted(ctx, reg, verdict, answer.domain)

    @_serialised
    def _trusted(self, ctx, reg, verdict, declared_domain):
        node = _ident(reg.host, reg.hypervisor_hostname)
        key = (reg.host, reg.hypervisor_hostname)
        now = datetime.datetime.now(datetime.UTC)
        dumped = state_mod.dump(verdict.state)
        detail = "white-lists %s" % ", ".join(verdict.whitelists)
        result = {
            "host": node,
            "status": records.TRUST_TRUSTED,
            "detail": detail,
        }
        if (
            reg.status == records.TRUST_TRUSTED
            and (reg.rcot, reg.whitelists)
            == (verdict.rcot, verdict.whitelists)
            and key in self._registrations
        ):
            if attestation_db.attestation_touch(
                ctx, reg.host, reg.hypervisor_hostname, reg.cid, dumped, now
            ):
                self._registrations[key] = dataclasses.replace(
                    reg, state=dumped
                )
                return result
            self.forget(*key)  # changed elsewhere: take the full path
            reg = attestation_db.registration_get(ctx, *key)
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
        if reg.status != records.TRUST_TRUSTED:
            eventlog.record(ctx, node, eventlog.TRUSTED, "trusted: " + detail)
        if changed and domain:
            chains.recompute(ctx, domain)
        if declared_domain and domain is None and changed:
            self._join(ctx, reg, declared_domain)
        return result

    def _join(self, ctx, reg, domain):
        node = _ident(reg.host, reg.hypervisor_hostname)
        self.forget(reg.host, reg.hypervisor_hostname)
        try:
            chains.add_node(ctx, reg.host, reg.hypervisor_hostname, domain)
        except (errors.MembershipRefused, exception.NotFound) as exc:
            eventlog.record_error(ctx, node, exc)
            return
        eventlog.record(
            ctx, node, eventlog.JOINED_DOMAIN, "joined domain %s" % domain
        )

    @_serialised
    def _untrusted(self, ctx, reg, exc):
        node = _ident(reg.host, reg.hypervisor_hostname)
        self.forget(reg.host, reg.hypervisor_hostname)
        event = eventlog.record_error(ctx, node, exc)
        saved = attestation_db.attestation_save(
            ctx,
            reg.host,
            reg.hypervisor_hostname,
            reg.cid,
            records.TRUST_UNTRUSTED,
            failure_event_id=event,
            revoke=True,
        )
        if saved is not None and saved[1]:
            chains.recompute(ctx, saved[1])
        return {
            "host": node,
            "status": records.TRUST_UNTRUSTED,
            "detail": exc.message,
        }

    @_serialised
    def _unknown(self, ctx, reg, event, detail):
        node = _ident(reg.host, reg.hypervisor_hostname)
        self.forget(reg.host, reg.hypervisor_hostname)
        event_row = None
        if reg.status != records.TRUST_UNKNOWN:
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
        if saved is not None and saved[0] and saved[1]:
            chains.recompute(ctx, saved[1])
        return {
            "host": node,
            "status": records.TRUST_UNKNOWN,
            "detail": detail,
        }

    def revoke(self, ctx, host, hv, cid, exc) -> dict | None:
        """Mark a node untrusted because of ``exc`` (e.g. the agent's own
        platform-changed report); None if ``cid`` is not its registration."""
        with self._node_lock((host, hv)):
            try:
                reg = attestation_db.registration_get(ctx, host, hv)
            except exception.NotFound:
                return None
            if not reg.registered or reg.cid != cid:
                return None
            return self._untrusted(ctx, reg, exc)

    def timer_job(self, key) -> bool:
        """The periodic job: False stops the node's timer (unregistered or
        revoked: it must register again)."""
        result = self.attest(key)
        return result is not None and result["status"] != (
            records.TRUST_UNTRUSTED
        )
