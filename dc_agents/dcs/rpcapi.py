"""Client side of the DC-S RPC API of agents (used by DC-C).

Operator methods are in :mod:`dc_agents.dcs.operatorapi`.
"""

import logging
import threading

import oslo_messaging

from acaas_nova.attestation import channel
from dc_agents import messages
from dc_agents import rpc

#: The event type of a round answer notification (API 1.3).
ANSWER_EVENT = "acaas.round_answer"
PUBLISHER = "acaas-dcc"
#: Notifiers a DC-C keeps, one per worker it answered lately.
MAX_NOTIFIERS = 16


def answers_topic(conf, worker: str) -> str:
    """The answers topic of DC-S worker ``worker`` (its queue is this
    and ``.info``; dc_agents.dcs.answers consumes it)."""
    return "%s.answers.%s" % (conf.dcs.topic, worker)


class _NoPayload(logging.Filter):
    """oslo.messaging logs a notification it could not send with its
    payload (a quote, over a round nonce) at error level: keep the line,
    drop the payload."""

    def filter(self, record):
        if isinstance(record.args, dict) and "payload" in record.args:
            record.args = dict(record.args, payload="(omitted)")
        elif isinstance(record.args, dict) and "message" in record.args:
            record.args = dict(record.args, message="(omitted)")
        return True


_FILTER = _NoPayload()


class AnswerSender:
    """DC-C's side: sends an answer to the worker that asked."""

    def __init__(self, conf, transport):
        self.conf = conf
        self.transport = transport
        self._notifiers: dict[str, oslo_messaging.Notifier] = {}
        self._lock = threading.Lock()
        for name in ("notify.notifier", "notify.messaging"):
            logging.getLogger("oslo_messaging." + name).addFilter(_FILTER)

    def _notifier(self, worker: str) -> oslo_messaging.Notifier:
        with self._lock:
            notifier = self._notifiers.get(worker)
            if notifier is None:
                if len(self._notifiers) >= MAX_NOTIFIERS:
                    self._notifiers.clear()  # workers came and went
                notifier = self._notifiers[worker] = oslo_messaging.Notifier(
                    rpc.notification_transport(self.conf, self.transport),
                    publisher_id=PUBLISHER,
                    driver="messagingv2",
                    topics=[answers_topic(self.conf, worker)],
                )
        return notifier

    def send(self, worker: str, args: dict) -> None:
        self._notifier(worker).info({}, ANSWER_EVENT, args)


class DCSAPI:
    """Client side of the DC-S RPC API.

    API version history:

    * 1.0 - Initial version: register, activate, registration_status,
      platform_changed, attest_host, domain_add_host.
    * 1.1 - attest_host: ``forwarded`` (a worker passing the request to
      the worker that owns the node; that one does not forward again).
      round_answer (a cast to the worker that opened the round).
    * 1.2 - the authenticated agent channel: activate carries a MAC under
      the channel key instead of the secret (and register returns the
      CID); registration_status, platform_changed and round_answer carry
      a MAC (``mac``) and, for the first two, a ``counter``.  attest_host
      and domain_add_host are no longer served here: they moved to the
      operator API (:class:`dc_agents.dcs.operatorapi.OperatorAPI`, its
      own topic and transport).
    * 1.3 - round_answer is a notification on the asking worker's
      answers topic (:func:`answers_topic`, event type ANSWER_EVENT),
      which DC-S consumes in batches; DC-S still takes the 1.2 cast.
    """

    VERSION = "1.3"

    def __init__(self, conf, transport, timeout: float | None = None):
        target = oslo_messaging.Target(topic=conf.dcs.topic, version="1.0")
        self.client = oslo_messaging.get_rpc_client(
            transport, target, version_cap=self.VERSION, timeout=timeout
        )
        #: This agent's message counter (one node per agent).
        self.counter = channel.Counter()
        self.answers = AnswerSender(conf, transport)

    def _signed(self, key, method, host, hypervisor_hostname, fresh, args):
        node = rpc.server_name(host, hypervisor_hostname)
        args = dict(args, host=host, hypervisor_hostname=hypervisor_hostname)
        return channel.sign(key, method, node, fresh, args)

    def _counted(self, key, method, host, hypervisor_hostname, args):
        count = self.counter.next()
        args = dict(args, counter=count)
        return self._signed(
            key, method, host, hypervisor_hostname, count, args
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

    def activate(self, host, hypervisor_hostname, session, cid, key) -> dict:
        """Protocol 12.1, step 2: proves the TPM recovered the credential
        secret with a MAC under the channel ``key`` derived from it (the
        secret stays here); returns the CID and AK certificate."""
        args = self._signed(
            key,
            channel.ACTIVATE,
            host,
            hypervisor_hostname,
            session,
            {"session": session, "cid": cid},
        )
        return self.client.call({}, "activate", **args)

    def registration_status(self, host, hypervisor_hostname, cid, key) -> bool:
        """Whether DC-S still holds this node's registration under cid
        (and key: a wrong MAC is refused with ChannelMacInvalid)."""
        args = self._counted(
            key,
            "registration_status",
            host,
            hypervisor_hostname,
            {"cid": cid},
        )
        return self.client.call({}, "registration_status", **args)

    def platform_changed(self, host, hypervisor_hostname, cid, reason, key):
        """DC-C reports that it can no longer unseal its secret (with the
        key it unsealed before)."""
        args = self._counted(
            key,
            "platform_changed",
            host,
            hypervisor_hostname,
            {"cid": cid, "reason": reason},
        )
        return self.client.call({}, "platform_changed", **args)

    def round_answer(
        self,
        worker,
        round_id,
        host,
        hypervisor_hostname,
        answer,
        error,
        key,
        nonce,
    ) -> None:
        """A DC-C's answer to a round (a notification to the worker that
        sent it): the quote answer, or ``error`` = {"kind", "message"},
        with a MAC under ``key`` bound to the round's ``nonce`` for this
        node."""
        args = self._signed(
            key,
            "round_answer",
            host,
            hypervisor_hostname,
            nonce.hex(),
            {"round_id": round_id, "answer": answer, "error": error},
        )
        self.answers.send(worker, args)
