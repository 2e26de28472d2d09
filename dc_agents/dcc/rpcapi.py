"""Client side of the DC-C RPC API (used by DC-S)."""

import oslo_messaging

from dc_agents import messages
from dc_agents import rpc


class DCCAPI:
    """Client side of the DC-C RPC API.

    API version history:

    * 1.0 - Initial version: quote.
    * 1.1 - attest_round (a fanout cast to a partition's round topic).
    """

    VERSION = "1.1"

    def __init__(self, conf, transport):
        self.conf = conf
        target = oslo_messaging.Target(topic=conf.dcc.topic, version="1.0")
        self.client = oslo_messaging.get_rpc_client(
            transport, target, version_cap=self.VERSION
        )

    def quote(
        self,
        host: str,
        hypervisor_hostname: str,
        nonce: bytes,
        selection: dict[str, list[int]],
        ima_offset: int,
        timeout: float,
    ) -> dict:
        """Ask a node for a quote and its IMA entries from ima_offset on.

        Raises oslo_messaging.MessagingTimeout when the node does not answer
        within ``timeout`` seconds.
        """
        cctxt = self.client.prepare(
            server=rpc.server_name(host, hypervisor_hostname),
            timeout=timeout,
        )
        return cctxt.call(
            {},
            "quote",
            nonce=messages.encode(nonce),
            selection=selection,
            ima_offset=ima_offset,
        )

    def round(self, partition: int, message: dict) -> None:
        """Send one attestation round to every DC-C of ``partition``
        (a fanout cast: nodes not listed in it ignore it)."""
        cctxt = self.client.prepare(
            topic=round_topic(self.conf, partition),
            fanout=True,
            version="1.1",
        )
        cctxt.cast({}, "attest_round", **message)


def round_topic(conf, partition: int) -> str:
    """The topic a partition's DC-C agents receive rounds on."""
    return "%s-round-%d" % (conf.dcc.topic, partition)
