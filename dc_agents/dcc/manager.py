"""The DC-C RPC endpoint: answers DC-S's attestation requests.

Only ``quote`` and ``attest_round`` are exposed (ExplicitRPCAccessPolicy).
A request must carry a MAC under the node's channel key over its
arguments and DC-S's nonce (acaas_nova/attestation/channel.py), seen for
the first time: anything else on the bus is logged and ignored before
the TPM is touched (a refused ``quote`` call gets a ChannelError, never a
quote).  Arguments are validated before use; a refusal reaches DC-S as an
expected exception with a one-line message.  Both methods take any
argument names (the request context is positional-only): an unexpected
one is refused by the method, never a TypeError raised before it runs
(which oslo.messaging would log with a traceback).
"""

import collections
import logging
import threading

import oslo_messaging

from acaas_nova import exception
from acaas_nova.attestation import channel
from acaas_nova.attestation import errors as att_errors
from dc_agents import errors
from dc_agents import messages
from dc_agents.dcs import rounds

LOG = logging.getLogger(__name__)

MAX_SELECTION = 24
#: Request nonces remembered to refuse a replayed request.
SEEN_NONCES = 4096
#: The arguments of attest_round (DC-S's round message).
ROUND_ARGS = ("round_id", "nonce", "worker", "selection", "asks", "macs")


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

    target = oslo_messaging.Target(version="1.3")

    def __init__(self, agent) -> None:
        self.agent = agent
        self._seen: collections.OrderedDict = collections.OrderedDict()
        self._seen_lock = threading.Lock()

    def _authentic(self, method, fresh: str, args: dict) -> bytes:
        """The channel key if ``args`` carry its MAC over this request and
        its nonce was not seen before; ChannelError otherwise (logged)."""
        key = self.agent.channel_key
        try:
            if key is None:
                raise att_errors.ChannelError(
                    reason="no channel key (not registered, or the "
                    "platform changed)"
                )
            channel.verify(key, method, self.agent.node, fresh, args)
            with self._seen_lock:
                if (method, fresh) in self._seen:
                    raise att_errors.ChannelReplay(
                        reason="%s nonce seen before" % method
                    )
                self._seen[(method, fresh)] = True
                while len(self._seen) > SEEN_NONCES:
                    self._seen.popitem(last=False)
        except att_errors.ChannelError as exc:
            LOG.warning("%s request ignored: %s", method, exc.message)
            raise
        return key

    @oslo_messaging.expose
    @oslo_messaging.expected_exceptions(
        errors.MalformedMessage,
        errors.NotRegistered,
        att_errors.PlatformChanged,
        exception.AttestationError,
        exception.ConfigError,
    )
    def quote(self, context, /, **kwargs):
        raw = messages.decode(kwargs.get("nonce"), "nonce", messages.MAX_NONCE)
        if not raw:
            raise errors.MalformedMessage(what="nonce", reason="empty")
        # DC-S may ask as soon as registration completes (no TPM here).
        self.agent.ready.wait(5.0)
        key = self._authentic("quote", raw.hex(), kwargs)
        try:
            answer = self.agent.quote(
                raw,
                _selection(kwargs.get("selection")),
                messages.integer(kwargs.get("ima_offset"), "IMA log offset"),
            )
        except att_errors.PlatformChanged:
            # A reply is not authenticated: report it with the key.
            threading.Thread(
                target=self.agent.report_changed, daemon=True
            ).start()
            raise
        return channel.sign(
            key, "quote_answer", self.agent.node, raw.hex(), answer
        )

    @oslo_messaging.expose
    def attest_round(self, context, /, **kwargs):
        """A round for this node's partition (a fanout cast): answer it if
        this node is listed with a valid MAC; the answer goes back as a
        cast.  Arguments other than ROUND_ARGS refuse it (a cast has no
        caller to raise to: a warning)."""
        node = self.agent.node
        asks = kwargs.get("asks")
        if not isinstance(asks, dict) or node not in asks:
            return
        macs = kwargs.get("macs")
        selection = kwargs.get("selection")
        try:
            unknown = set(kwargs) - set(ROUND_ARGS)
            if unknown:
                raise errors.MalformedMessage(
                    what="round",
                    reason="unexpected arguments %s"
                    % ", ".join(sorted(repr(k)[:20] for k in unknown)),
                )
            offset = messages.integer(asks[node], "IMA log offset")
            raw = messages.decode(
                kwargs.get("nonce"), "round nonce", messages.MAX_NONCE
            )
            if not raw:
                raise errors.MalformedMessage(what="nonce", reason="empty")
            worker = messages.text(kwargs.get("worker"), "worker")
            round_id = messages.text(kwargs.get("round_id"), "round id", 64)
            wanted = _selection(selection)
        except errors.MalformedMessage as exc:
            LOG.warning("Round refused: %s", exc.message)
            return
        mine = rounds.node_nonce(raw, worker, node)
        # DC-S asks as soon as registration completes (before the key is
        # set here); no TPM is touched while waiting.
        self.agent.ready.wait(5.0)
        request = {
            "round_id": round_id,
            "worker": worker,
            "selection": selection,
            "offset": offset,
            channel.MAC_FIELD: (macs or {}).get(node)
            if isinstance(macs, dict)
            else None,
        }
        try:
            self._authentic("attest_round", mine.hex(), request)
        except att_errors.ChannelError:
            return
        self.agent.answer_round(worker, round_id, mine, wanted, offset)
