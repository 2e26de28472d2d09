"""Client side of the DC-C RPC API (used by DC-S)."""

import oslo_messaging

from acaas_nova.attestation import channel
from dc_agents import messages
from dc_agents import rpc


class DCCAPI:
    """Client side of the DC-C RPC API.

    API version history:

    * 1.0 - Initial version: quote.
    * 1.1 - attest_round (a fanout cast to a partition's round topic).
    * 1.2 - quote and attest_round carry MACs under the node's channel
      key (``mac``, ``macs``); answers are MAC'd too.
    * 1.3 - answers carry ``ima_more``: the IMA log is one chunk of at
      most ``[dcc] max_log_bytes``, DC-S asks for the rest (upgrade DC-S
      first: an older one refuses the field).
    """

    VERSION = "1.3"

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
        key: bytes | None = None,
    ) -> dict:
        """Ask a node for a quote and its IMA entries from ima_offset on,
        with a MAC under its channel ``key`` (the answer has one too).

        Raises oslo_messaging.MessagingTimeout when the node does not answer
        within ``timeout`` seconds.
        """
        node = rpc.server_name(host, hypervisor_hostname)
        cctxt = self.client.prepare(server=node, timeout=timeout)
        args = {
            "nonce": messages.encode(nonce),
            "selection": selection,
            "ima_offset": ima_offset,
        }
        if key is not None:
            args = channel.sign(key, "quote", node, nonce.hex(), args)
        return cctxt.call({}, "quote", **args)

    def round(self, partition: int, message: dict) -> None:
        """Send one attestation round to every DC-C of ``partition``
        (a fanout cast: nodes not listed in it ignore it)."""
        cctxt = self.client.prepare(
            topic=round_topic(self.conf, partition),
            fanout=True,
            version="1.2",
        )
        cctxt.cast({}, "attest_round", **message)


def round_topic(conf, partition: int) -> str:
    """The topic a partition's DC-C agents receive rounds on."""
    return "%s-round-%d" % (conf.dcc.topic, partition)
