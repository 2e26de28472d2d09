"""Client side of DC-S's operator RPC API (acaas-manage, DC-S workers).

The operator target is ``[dcs] operator_topic`` over
``[dcs] operator_transport_url`` (default: ``[DEFAULT] transport_url``);
:func:`get_transport` opens that transport.  DC-C agents never use it.
"""

import oslo_messaging

from dc_agents import rpc


def get_transport(conf):
    """The transport of the operator target."""
    return rpc.get_transport(conf, url=conf.dcs.operator_transport_url)


class OperatorAPI:
    """Client side of DC-S's operator API.

    API version history:

    * 1.0 - Initial version: attest_host (with ``forwarded``, a worker
      passing the request to the worker that owns the node) and
      domain_add_host, moved here from the agents' API
      (:class:`dc_agents.dcs.rpcapi.DCSAPI`) so that only the operator's
      broker user can call them.
    """

    VERSION = "1.0"

    def __init__(self, conf, transport, timeout: float | None = None):
        target = oslo_messaging.Target(
            topic=conf.dcs.operator_topic, version="1.0"
        )
        self.client = oslo_messaging.get_rpc_client(
            transport, target, version_cap=self.VERSION, timeout=timeout
        )

    def attest_host(self, host, hypervisor_hostname=None, server=None) -> dict:
        """Attest a node now; returns its new status (acaas-manage).

        ``server``: the DC-S worker (its ``[coordination] member_id``) to
        ask, which attests without forwarding again; any worker by
        default.
        """
        if server is None:
            return self.client.call(
                {},
                "attest_host",
                host=host,
                hypervisor_hostname=hypervisor_hostname,
            )
        return self.client.prepare(server=server).call(
            {},
            "attest_host",
            host=host,
            hypervisor_hostname=hypervisor_hostname,
            forwarded=True,
        )

    def domain_add_host(self, host, hypervisor_hostname, domain) -> dict:
        """Add a node to a physical domain if it qualifies."""
        return self.client.call(
            {},
            "domain_add_host",
            host=host,
            hypervisor_hostname=hypervisor_hostname,
            domain=domain,
        )
