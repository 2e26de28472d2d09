"""DC-S's operator RPC endpoint: what only an operator may ask.

``attest_host`` (triggers work, reads a node's state) and
``domain_add_host`` (changes domain membership, hence where the scheduler
places servers) are served on their own target, ``[dcs] operator_topic``,
over ``[dcs] operator_transport_url``: a broker vhost whose permissions
only DC-S's and the operators' broker users hold, so neither an agent nor
anyone else holding the agents' broker credentials can call them
(docs/security.rst, "Operator methods").  The agents' endpoint
(:mod:`dc_agents.dcs.manager`) does not expose them.

Every argument is type- and size-checked before anything reaches the
database; a bad request is refused with a one-line error (the request
context is positional-only, as in :mod:`dc_agents.dcs.manager`).
"""

import logging

import oslo_messaging

from acaas_nova import context as acaas_context
from acaas_nova import exception
from acaas_nova.db import attestation as attestation_db
from dc_agents import errors
from dc_agents import messages
from dc_agents.dcs import chains
from dc_agents.dcs import eventlog

LOG = logging.getLogger(__name__)

_CALLER_FAULTS = (
    errors.MalformedMessage,
    errors.MessageTooLarge,
    errors.NotRegistered,
    errors.MembershipRefused,
    exception.NotFound,
    exception.Invalid,
)


class DCSOperatorManager:
    """Endpoint of DC-S's operator API (see
    :class:`~dc_agents.dcs.operatorapi.OperatorAPI` for its history)."""

    target = oslo_messaging.Target(version="1.0")

    def __init__(self, conf, attester, forward=None):
        self.conf = conf
        self.attester = attester
        # forward(key) -> the owning worker's answer, or None to attest
        # here (we own the node, or there is only one worker).
        self.forward = forward

    @oslo_messaging.expose
    @oslo_messaging.expected_exceptions(*_CALLER_FAULTS)
    def attest_host(self, context, /, **kwargs):
        """Attest a node now (acaas-manage host attest)."""
        ctx = acaas_context.get_admin_context()
        messages.check_size(
            kwargs, "attest_host request", self.conf.dcs.max_message_bytes
        )
        host, hv = messages.node_identity(kwargs)
        forwarded = kwargs.get("forwarded", False)
        if not isinstance(forwarded, bool):
            raise errors.MalformedMessage(
                what="forwarded", reason="not a boolean"
            )
        reg = attestation_db.registration_get(ctx, host, hv)
        key = (reg.host, reg.hypervisor_hostname)
        if self.forward is not None and not forwarded:
            result = self.forward(key)
            if result is not None:
                return result
        result = self.attester.attest(key)
        if result is None:
            raise errors.NotRegistered(
                node=host, reason="it must register (start its DC-C) first"
            )
        return result

    @oslo_messaging.expose
    @oslo_messaging.expected_exceptions(*_CALLER_FAULTS)
    def domain_add_host(self, context, /, **kwargs):
        """Add a node to a physical domain if it qualifies."""
        ctx = acaas_context.get_admin_context()
        messages.check_size(
            kwargs, "domain_add_host request", self.conf.dcs.max_message_bytes
        )
        host, hv = messages.node_identity(kwargs)
        domain = messages.text(kwargs.get("domain"), "domain")
        try:
            chains.add_node(ctx, host, hv, domain)
            self.attester.forget(host, hv or host)
        except errors.MembershipRefused as exc:
            eventlog.record_error(ctx, host, exc)
            raise
        eventlog.record(
            ctx, host, eventlog.JOINED_DOMAIN, "joined domain %s" % domain
        )
        return {"host": host, "domain": domain}
