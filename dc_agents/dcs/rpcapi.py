"""Client side of the DC-S RPC API of agents (used by DC-C).

Operator methods are in :mod:`dc_agents.dcs.operatorapi`.
"""

import oslo_messaging

from dc_agents import messages


class DCSAPI:
    """Client side of the DC-S RPC API.

    API version history:

    * 1.0 - Initial version: register, activate, registration_status,
      platform_changed, attest_host, domain_add_host.
    * 1.1 - attest_host: ``forwarded`` (a worker passing the request to
      the worker that owns the node; that one does not forward again).
      round_answer (a cast to the worker that opened the round).
    * attest_host and domain_add_host are no longer served here: they
      moved to the operator API (:class:`dc_agents.dcs.operatorapi.
      OperatorAPI`, its own topic and transport).
    """

    VERSION = "1.1"

    def __init__(self, conf, transport, timeout: float | None = None):
        target = oslo_messaging.Target(topic=conf.dcs.topic, version="1.0")
        self.client = oslo_messaging.get_rpc_client(
            transport, target, version_cap=self.VERSION, timeout=timeout
        )

    def register(
        self, host, hypervisor_hostname, ek_public, ek_certificate, ak_public
    ) -> dict:
        """Protocol 12.1, step 1: returns the credential challenge."""
        return self.client.call(
            {},
            "register",
            host=host,
            hypervisor_hostname=hypervisor_hostname,
            ek_public=messages.encode(ek_public),
            ek_certificate=messages.encode(ek_certificate),
            ak_public=messages.encode(ak_public),
        )

    def activate(self, host, hypervisor_hostname, session, secret) -> dict:
        """Protocol 12.1, step 2: returns the CID and AK certificate."""
        return self.client.call(
            {},
            "activate",
            host=host,
            hypervisor_hostname=hypervisor_hostname,
            session=session,
            secret=messages.encode(secret),
        )

    def registration_status(self, host, hypervisor_hostname, cid) -> bool:
        """Whether DC-S still holds this node's registration under cid."""
        return self.client.call(
            {},
            "registration_status",
            host=host,
            hypervisor_hostname=hypervisor_hostname,
            cid=cid,
        )

    def platform_changed(self, host, hypervisor_hostname, cid, reason):
        """DC-C reports that it can no longer unseal its secret."""
        return self.client.call(
            {},
            "platform_changed",
            host=host,
            hypervisor_hostname=hypervisor_hostname,
            cid=cid,
            reason=reason,
        )

    def round_answer(
        self, worker, round_id, host, hypervisor_hostname, answer, error
    ) -> None:
        """A DC-C's answer to a round (a cast to the worker that sent it):
        the quote answer, or ``error`` = {"kind", "message"}."""
        cctxt = self.client.prepare(server=worker, version="1.1")
        cctxt.cast(
            {},
            "round_answer",
            round_id=round_id,
            host=host,
            hypervisor_hostname=hypervisor_hostname,
            answer=answer,
            error=error,
        )
