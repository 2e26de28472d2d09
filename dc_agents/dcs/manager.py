"""The DC-S RPC endpoint of DC-C agents: what an agent may ask.

Operator methods (``attest_host``, ``domain_add_host``) are not here: they
sit on their own target and transport (:mod:`dc_agents.dcs.operator`).

Only methods marked ``@oslo_messaging.expose`` are callable (the server
uses ExplicitRPCAccessPolicy).  Every argument is validated before use;
a bad request is refused with a one-line error the caller receives as an
expected exception, recorded as an event, and nothing else is stored.
The request context is positional-only (``context, /``): a message
argument named ``context`` is one more argument, not a TypeError that
oslo.messaging would log with a traceback.

Agent messages after registration are authenticated with the node's
channel key (acaas_nova/attestation/channel.py): ``registration_status``
and ``platform_changed`` carry a MAC and a per-message counter, accepted
only above the node's last one (in the transaction of the write they
cause); ``round_answer`` carries a MAC bound to the round's nonce, checked
by the round runner before the answer is judged.  A missing, wrong or
replayed MAC is refused with its own event and changes nothing.
"""

import logging

import oslo_messaging

from acaas_nova import context as acaas_context
from acaas_nova import exception
from acaas_nova.attestation import channel
from acaas_nova.attestation import errors as att_errors
from acaas_nova.db import attestation as attestation_db
from dc_agents import errors
from dc_agents import messages
from dc_agents.dcs import answers
from dc_agents.dcs import eventlog

LOG = logging.getLogger(__name__)

_CALLER_FAULTS = (
    att_errors.ChannelError,
    errors.MalformedMessage,
    errors.MessageTooLarge,
    errors.NotRegistered,
    errors.RegistrationRefused,
    errors.MembershipRefused,
    exception.NotFound,
    exception.Invalid,
)


class DCSManager:
    """Endpoint of DC-S's RPC API (see :class:`~dc_agents.dcs.rpcapi.DCSAPI`
    for the version history)."""

    target = oslo_messaging.Target(version="1.1")

    def __init__(self, conf, registrar, attester, timers):
        self.conf = conf
        self.registrar = registrar
        self.attester = attester
        self.timers = timers

    # -- helpers -------------------------------------------------------------

    def _checked(self, ctx, method, args):
        """Validate size and identity of a request; return (host, hv)."""
        subject = str(args.get("host"))[:255]
        try:
            messages.check_size(
                args, "%s request" % method, self.conf.dcs.max_message_bytes
            )
            host, hv = messages.node_identity(args)
        except (errors.MalformedMessage, errors.MessageTooLarge) as exc:
            eventlog.record_error(ctx, subject, exc)
            raise
        return host, hv if hv is not None else host

    def _decode(
        self, ctx, subject, value, what, limit=messages.MAX_TPM_STRUCT
    ):
        try:
            return messages.decode(value, what, limit)
        except errors.MalformedMessage as exc:
            eventlog.record_error(ctx, subject, exc)
            raise

    # -- registration (Protocol 12.1) ---------------------------------------

    @oslo_messaging.expose
    @oslo_messaging.expected_exceptions(*_CALLER_FAULTS)
    def register(self, context, /, **kwargs):
        ctx = acaas_context.get_admin_context()
        host, hv = self._checked(ctx, "register", kwargs)
        ek_public = self._decode(
            ctx, host, kwargs.get("ek_public"), "EK public"
        )
        ek_cert = self._decode(
            ctx,
            host,
            kwargs.get("ek_certificate"),
            "EK certificate",
            messages.MAX_CERTIFICATE,
        )
        ak_public = self._decode(
            ctx, host, kwargs.get("ak_public"), "AK public"
        )
        return self.registrar.begin(
            ctx, host, hv, ek_public, ek_cert, ak_public
        )

    @oslo_messaging.expose
    @oslo_messaging.expected_exceptions(*_CALLER_FAULTS)
    def activate(self, context, /, **kwargs):
        ctx = acaas_context.get_admin_context()
        host, hv = self._checked(ctx, "activate", kwargs)
        try:
            session = messages.text(kwargs.get("session"), "session", 64)
        except errors.MalformedMessage as exc:
            eventlog.record_error(ctx, host, exc)
            raise
        return self.registrar.finish(ctx, host, hv, session, kwargs)

    def _authenticated(self, ctx, method, host, hv, kwargs):
        """(registration, counter) of an agent message that names the
        node's CID and carries a valid MAC; ``None`` registration if the
        node is not registered under that CID.  Refusals are events."""
        node = host if host == hv else "%s:%s" % (host, hv)
        try:
            cid = messages.text(kwargs.get("cid"), "CID", 64)
        except errors.MalformedMessage as exc:
            eventlog.record_error(ctx, host, exc)
            raise
        try:
            reg = attestation_db.registration_get(ctx, host, hv)
        except exception.NotFound:
            return None, None
        if not reg.registered or reg.cid != cid:
            return None, None
        try:
            if kwargs.get(channel.MAC_FIELD) is None:
                raise att_errors.ChannelMacMissing(reason=method)
            count = channel.counter(kwargs.get("counter"))
            channel.verify(reg.channel_key, method, node, count, kwargs)
        except att_errors.ChannelError as exc:
            eventlog.record_error(ctx, node, exc)
            raise
        return reg, count

    @oslo_messaging.expose
    @oslo_messaging.expected_exceptions(*_CALLER_FAULTS)
    def registration_status(self, context, /, **kwargs):
        """Whether the node is registered under ``cid`` (an agent at its
        start; authenticated: it may arm the node's timer)."""
        ctx = acaas_context.get_admin_context()
        host, hv = self._checked(ctx, "registration_status", kwargs)
        reg, count = self._authenticated(
            ctx, "registration_status", host, hv, kwargs
        )
        if reg is None:
            return False
        if not attestation_db.channel_accept(
            ctx, host, hv, reg.cid, reg.channel_key, count
        ):
            exc = att_errors.ChannelReplay(
                reason="registration_status counter %d" % count
            )
            eventlog.record_error(ctx, host, exc)
            raise exc
        if (host, hv) not in self.timers:
            self.timers.add((host, hv))
        return True

    @oslo_messaging.expose
    @oslo_messaging.expected_exceptions(*_CALLER_FAULTS)
    def platform_changed(self, context, /, **kwargs):
        """Protocol 12.2's sealing: the agent can no longer unseal."""
        ctx = acaas_context.get_admin_context()
        host, hv = self._checked(ctx, "platform_changed", kwargs)
        try:
            reason = messages.text(kwargs.get("reason"), "reason", 500)
        except errors.MalformedMessage as exc:
            eventlog.record_error(ctx, host, exc)
            raise
        reg, count = self._authenticated(
            ctx, "platform_changed", host, hv, kwargs
        )
        result = None
        if reg is not None:
            exc = att_errors.PlatformChanged(reason=reason)
            try:
                result = self.attester.revoke(
                    ctx, host, hv, reg.cid, exc, (reg.channel_key, count)
                )
            except att_errors.ChannelReplay as refused:
                eventlog.record_error(ctx, host, refused)
                raise
        if result is None:
            refused = errors.NotRegistered(
                node=host,
                reason="platform change reported for CID %s"
                % str(kwargs.get("cid"))[:64],
            )
            eventlog.record_error(ctx, host, refused)
            raise refused
        self.timers.remove((host, hv))
        return result

    # -- attestation rounds ---------------------------------------------

    @oslo_messaging.expose
    def round_answer(self, context, /, **kwargs):
        """A DC-C's answer to a round as a cast (API 1.1-1.2; 1.3 agents
        send a notification, dc_agents.dcs.answers).  Only the envelope
        is checked here; the round book, the channel MAC (``kwargs`` as
        sent) and the verifier judge the rest on the collecting thread."""
        try:
            round_id, key, answer, error = answers.envelope(kwargs)
        except errors.MalformedMessage as exc:
            answers.refused(kwargs, exc)
            return
        self.timers.answer(round_id, key, answer, error, kwargs)
