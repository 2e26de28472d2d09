"""Node registration on the DC-S side (the chapter's Protocol 12.1).

Two RPC round trips: :meth:`Registrar.begin` checks the EK certificate
against ``[dcs] ek_ca_bundle``, the EK and AK, and answers with a
MakeCredential challenge; :meth:`Registrar.finish` checks the secret the
node's TPM recovered with ActivateCredential, issues the AK certificate
and CID and persists the node.  Challenges live in memory for
``[dcs] registration_timeout`` seconds.  Every refusal is recorded as an
event and stores nothing else.
"""

import dataclasses
import logging
import threading
import time
import uuid
from collections.abc import Callable

from acaas_nova import exception
from acaas_nova.attestation import registration
from acaas_nova.db import attestation as attestation_db
from dc_agents import errors
from dc_agents import messages
from dc_agents.dcs import dbwrite
from dc_agents.dcs import eventlog
from dc_agents.dcs import state as state_mod

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class _Pending:
    host: str
    hypervisor_hostname: str
    challenge: registration.Challenge
    ek_fingerprint: str
    expires: float


def ek_fingerprint(ek_public: bytes) -> str:
    """The EK's identity (digest of its canonical SubjectPublicKeyInfo);
    "" for a malformed EK, which registration.begin then refuses."""
    try:
        return registration.ek_fingerprint(ek_public)
    except exception.AttestationError:
        return ""


class Registrar:
    """Registers nodes; calls ``on_registered(host, hypervisor)``."""

    def __init__(
        self,
        conf,
        ca_key,
        ca_cert,
        ca_bundle: bytes | None,
        on_registered: Callable[[str, str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.conf = conf
        self.ca_key = ca_key
        self.ca_cert = ca_cert
        self.ca_bundle = ca_bundle
        self.on_registered = on_registered
        self.clock = clock
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()

    def _refuse(self, context, node, reason, cause=None):
        exc = errors.RegistrationRefused(node=node, reason=reason)
        if cause is not None:
            exc.event_id, exc.severity = cause.event_id, cause.severity
        eventlog.record_error(context, node, exc)
        raise exc

    def begin(
        self, context, host, hypervisor, ek_public, ek_cert, ak_public
    ) -> dict:
        node = host if host == hypervisor else "%s:%s" % (host, hypervisor)
        if self.ca_bundle is None:
            self._refuse(context, node, "[dcs] ek_ca_bundle is not set")
        fingerprint = ek_fingerprint(ek_public)
        try:
            known = attestation_db.registration_get(context, host, hypervisor)
        except exception.NotFound:
            known = None
        if known is not None and known.ek_fingerprint not in (
            None,
            fingerprint,
        ):
            self._refuse(
                context, node, "the node is registered with another EK"
            )
        try:
            challenge = registration.begin(
                ek_cert, ek_public, ak_public, self.ca_bundle
            )
        except exception.AttestationError as exc:
            self._refuse(context, node, exc.message, exc)
        session = uuid.uuid4().hex
        now = self.clock()
        with self._lock:
            for key in [
                k for k, p in self._pending.items() if p.expires < now
            ]:
                del self._pending[key]
            self._pending[session] = _Pending(
                host,
                hypervisor,
                challenge,
                fingerprint,
                now + self.conf.dcs.registration_timeout,
            )
        LOG.info("Registration of %s: credential challenge sent", node)
        return {
            "session": session,
            "credential_blob": messages.encode(challenge.credential_blob),
            "encrypted_secret": messages.encode(challenge.encrypted_secret),
        }

    def finish(self, context, host, hypervisor, session, secret) -> dict:
        node = host if host == hypervisor else "%s:%s" % (host, hypervisor)
        with self._lock:
            pending = self._pending.get(session)
            if pending is not None and (
                pending.host,
                pending.hypervisor_hostname,
            ) == (host, hypervisor):
                del self._pending[session]
            else:
                pending = None
        if pending is None or pending.expires < self.clock():
            self._refuse(
                context, node, "unknown or expired registration session"
            )
        ch = pending.challenge
        try:
            certificate = registration.finish(
                ch, secret, self.ca_key, self.ca_cert
            )
        except exception.AttestationError as exc:
            self._refuse(context, node, exc.message, exc)
        initial = state_mod.dump(
            state_mod.NodeState(bank=self.conf.dcs.pcr_bank)
        )
        try:
            with dbwrite.writing():
                attestation_db.node_register(
                    context,
                    host,
                    hypervisor,
                    ch.cid,
                    pending.ek_fingerprint,
                    ch.ak_public,
                    ch.ak_name.hex(),
                    certificate.decode("ascii"),
                    initial,
                )
        except exception.Conflict as exc:
            self._refuse(context, node, exc.message)
        eventlog.record(
            context,
            node,
            eventlog.REGISTERED,
            "registered with CID %s (EK %s...)"
            % (ch.cid, pending.ek_fingerprint[:16]),
        )
        self.on_registered(host, hypervisor)
        return {"cid": ch.cid, "ak_certificate": certificate.decode("ascii")}
