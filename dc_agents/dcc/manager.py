"""The DC-C RPC endpoint: answers DC-S's attestation requests.

Only ``quote`` is exposed (ExplicitRPCAccessPolicy).  Its arguments are
validated before the TPM is touched; a refusal reaches DC-S as an expected
exception with a one-line message.
"""

import logging

import oslo_messaging

from acaas_nova import exception
from acaas_nova.attestation import errors as att_errors
from dc_agents import errors
from dc_agents import messages
from dc_agents.dcs import rounds

LOG = logging.getLogger(__name__)

MAX_SELECTION = 24


def _selection(value) -> dict[str, list[int]]:
    if not isinstance(value, dict) or not value:
        raise errors.MalformedMessage(what="PCR selection", reason="empty")
    out = {}
    for bank, pcrs in value.items():
        if bank not in messages.PCR_BANKS or not isinstance(pcrs, list):
            raise errors.MalformedMessage(
                what="PCR selection", reason="bad bank %r" % str(bank)[:20]
            )
        if not pcrs or len(pcrs) > MAX_SELECTION:
            raise errors.MalformedMessage(
                what="PCR selection", reason="bad PCR list"
            )
        out[bank] = [messages.integer(i, "PCR index", 0, 23) for i in pcrs]
    return out


class DCCManager:
    """Endpoint of DC-C's RPC API (see :class:`~dc_agents.dcc.rpcapi.DCCAPI`
    for the version history)."""

    target = oslo_messaging.Target(version="1.1")

    def __init__(self, agent) -> None:
        self.agent = agent

    @oslo_messaging.expose
    @oslo_messaging.expected_exceptions(
        errors.MalformedMessage,
        errors.NotRegistered,
        att_errors.PlatformChanged,
        exception.AttestationError,
        exception.ConfigError,
    )
    def quote(self, context, nonce=None, selection=None, ima_offset=None):
        raw = messages.decode(nonce, "nonce", messages.MAX_NONCE)
        if not raw:
            raise errors.MalformedMessage(what="nonce", reason="empty")
        return self.agent.quote(
            raw,
            _selection(selection),
            messages.integer(ima_offset, "IMA log offset"),
        )

    @oslo_messaging.expose
    def attest_round(
        self,
        context,
        round_id=None,
        nonce=None,
        worker=None,
        selection=None,
        asks=None,
    ):
        """A round for this node's partition (a fanout cast): answer it if
        this node is listed; the answer goes back as a cast."""
        node = self.agent.node
        if not isinstance(asks, dict) or node not in asks:
            return
        try:
            offset = messages.integer(asks[node], "IMA log offset")
            raw = messages.decode(nonce, "round nonce", messages.MAX_NONCE)
            if not raw:
                raise errors.MalformedMessage(what="nonce", reason="empty")
            worker = messages.text(worker, "worker")
            round_id = messages.text(round_id, "round id", 64)
            wanted = _selection(selection)
        except errors.MalformedMessage as exc:
            LOG.warning("Round refused: %s", exc.message)
            return
        self.agent.answer_round(
            worker,
            round_id,
            rounds.node_nonce(raw, worker, node),
            wanted,
            offset,
        )
