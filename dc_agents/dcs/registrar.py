"""Node registration on the DC-S side (the chapter's Protocol 12.1).

Two RPC round trips: :meth:`Registrar.begin` checks the EK certificate
against ``[dcs] ek_ca_bundle``, the EK and AK, and answers with a
MakeCredential challenge; :meth:`Registrar.finish` checks that the
node's TPM recovered the secret with ActivateCredential (a MAC under the
channel key derived from it: the secret never crosses the bus), issues
the AK certificate and CID and persists the node with its new channel key
(a re-registration replaces the old key at once).  Challenges live in
the database (acaas_nova/db/challenges.py) for ``[dcs]
registration_timeout`` seconds, so that the two requests may reach
different DC-S workers.  Every refusal is recorded as an event and
stores nothing else.

No first-come host names: only a node an operator declared (``acaas-manage
host add``) is registered, and only with the EK declared for it, if one
was (event ``ACAAS-DCS-012`` otherwise).  A registration under a name
nobody declared is verified all the same, then kept for ``[dcs]
approval_timeout`` seconds as awaiting approval (acaas_nova/db/pending.py,
event ``ACAAS-DCS-021``): the DC-C gets its CID and AK certificate and
keeps its key, and DC-S attests it once an operator approved it
(``acaas-manage host approve``); until then it is not attested, trusted
or schedulable.
"""

import datetime
import json
import logging
import uuid
from collections.abc import Callable

from acaas_nova import exception
from acaas_nova.attestation import ekcert
from acaas_nova.attestation import registration
from acaas_nova.db import attestation as attestation_db
from acaas_nova.db import challenges as challenges_db
from acaas_nova.db import pending as pending_db
from dc_agents import errors
from dc_agents import messages
from dc_agents.dcs import dbwrite
from dc_agents.dcs import eventlog
from dc_agents.dcs import state as state_mod

LOG = logging.getLogger(__name__)


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


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
        clock: Callable[[], datetime.datetime] = _utcnow,
    ) -> None:
        self.conf = conf
        self.ca_key = ca_key
        self.ca_cert = ca_cert
        self.ca_bundle = ca_bundle
        self.on_registered = on_registered
        self.clock = clock

    def _refuse(self, context, node, reason, cause=None, kind=None):
        exc = (kind or errors.RegistrationRefused)(node=node, reason=reason)
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
        if known is not None and known.expected_ek_fingerprint not in (
            None,
            fingerprint,
        ):
            self._refuse(
                context,
                node,
                "the operator declared another EK for this node (%s...), "
                "not %s..."
                % (known.expected_ek_fingerprint[:16], fingerprint),
                kind=errors.EKNotDeclared,
            )
        try:
            challenge = registration.begin(
                ek_cert, ek_public, ak_public, self.ca_bundle
            )
        except exception.AttestationError as exc:
            self._refuse(context, node, exc.message, exc)
        subject, issuer = ekcert.describe(ekcert.load_certificate(ek_cert))
        session = uuid.uuid4().hex
        timeout = datetime.timedelta(
            seconds=self.conf.dcs.registration_timeout
        )
        pending = challenges_db.PendingChallenge(
            session=session,
            host=host,
            hypervisor_hostname=hypervisor,
            cid=challenge.cid,
            ek_fingerprint=fingerprint,
            ek_public=challenge.ek_public,
            ak_public=challenge.ak_public,
            ak_name=challenge.ak_name,
            secret_digest=challenge.secret_digest,
            expires_at=self.clock() + timeout,
            channel_key=challenge.channel_key,
            ek_subject=subject,
            ek_issuer=issuer,
        )
        try:
            with dbwrite.writing():
                challenges_db.challenge_create(
                    context,
                    pending,
                    limit=self.conf.dcs.max_pending_registrations,
                )
        except exception.Conflict as exc:
            self._refuse(
                context, node, exc.message, kind=errors.RegistrationRetry
            )
        LOG.info("Registration of %s: credential challenge sent", node)
        return {
            "session": session,
            "cid": challenge.cid,
            "credential_blob": messages.encode(challenge.credential_blob),
            "encrypted_secret": messages.encode(challenge.encrypted_secret),
        }

    def finish(self, context, host, hypervisor, session, proof) -> dict:
        """``proof``: the activation arguments with their MAC
        (registration.activation_proof)."""
        node = host if host == hypervisor else "%s:%s" % (host, hypervisor)
        with dbwrite.writing():
            pending = challenges_db.challenge_take(
                context, session, host, hypervisor
            )
        if pending is None or pending.expires_at < self.clock():
            # Also when a late duplicate of this agent's first step (its
            # call timed out, it asked again) replaced the challenge.
            self._refuse(
                context,
                node,
                "unknown or expired registration session",
                kind=errors.RegistrationRetry,
            )
        ch = registration.Challenge(
            cid=pending.cid,
            ek_public=pending.ek_public,
            ak_public=pending.ak_public,
            ak_name=pending.ak_name,
            credential_blob=b"",
            encrypted_secret=b"",
            secret_digest=pending.secret_digest,
            channel_key=pending.channel_key or b"",
        )
        try:
            certificate = registration.finish_proven(
                ch, node, session, proof, self.ca_key, self.ca_cert
            )
        except exception.AttestationError as exc:
            self._refuse(context, node, exc.message, exc)
        initial = state_mod.dump(
            state_mod.NodeState(bank=self.conf.dcs.pcr_bank)
        )
        reply = {"cid": ch.cid, "ak_certificate": certificate.decode("ascii")}
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
                    channel_key=ch.channel_key,
                )
        except exception.UndeclaredEK as exc:
            self._refuse(context, node, exc.message, kind=errors.EKNotDeclared)
        except exception.NotFound:
            return self._await(context, node, pending, ch, reply, initial)
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
        return reply

    def _await(self, context, node, pending, ch, reply, initial) -> dict:
        """Keep the verified registration of an undeclared host name for
        an operator to approve; the DC-C is told it awaits approval."""
        timeout = self.conf.dcs.approval_timeout
        awaiting = pending_db.Awaiting(
            host=pending.host,
            hypervisor_hostname=pending.hypervisor_hostname,
            ek_fingerprint=pending.ek_fingerprint,
            ek_subject=pending.ek_subject or "(unknown)",
            ek_issuer=pending.ek_issuer or "(unknown)",
            cid=ch.cid,
            ak_public=ch.ak_public,
            ak_name=ch.ak_name.hex(),
            ak_certificate=reply["ak_certificate"],
            attestation_state=json.dumps(initial, sort_keys=True),
            expires_at=self.clock() + datetime.timedelta(seconds=timeout),
            channel_key=ch.channel_key,
        )
        try:
            with dbwrite.writing():
                pending_db.pending_store(
                    context, awaiting, self.conf.dcs.max_awaiting_approval
                )
        except exception.Conflict as exc:
            self._refuse(context, node, exc.message)
        eventlog.record(
            context,
            node,
            eventlog.AWAITING_APPROVAL,
            "registration awaiting approval (host name not declared; "
            "acaas-manage host approve %s): EK %s, EK certificate subject "
            "%s, issuer %s"
            % (
                node,
                awaiting.ek_fingerprint,
                awaiting.ek_subject,
                awaiting.ek_issuer,
            ),
        )
        return dict(reply, awaiting_approval=True, approval_timeout=timeout)
