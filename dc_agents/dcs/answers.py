"""Round answers as notifications, consumed by DC-S in batches.

A DC-C answers a round (dc_agents.dcs.roundrunner) with one message to
the worker that sent it.  Since DC-S API 1.3 that message is an
oslo.messaging notification (event type ``rpcapi.ANSWER_EVENT``,
priority ``info``) on the worker's own answers topic
(``rpcapi.answers_topic``), and each worker consumes its topic with a
batch notification listener: one poll
hands DC-S up to ``[dcs] answer_batch_size`` answers, and they reach the
round runner's collecting thread as one queue item.  An RPC cast per
answer (API 1.1-1.2, still served for agents not upgraded yet) costs DC-S
an executor hand-off and a dispatch per message on top of that.

The payload is the MAC-signed arguments a 1.2 agent casts
(``host``, ``hypervisor_hostname``, ``round_id``, ``answer``, ``error``,
``mac``); only its envelope is checked here (:func:`envelope`).  The MAC,
the round book and the verifier judge the rest, as for a cast.  A
notification carries nothing about its sender that DC-S would believe:
like a cast, an answer is what its MAC proves.
"""

import logging

import oslo_messaging

from acaas_nova import context as acaas_context
from dc_agents import errors
from dc_agents import messages
from dc_agents import rpc
from dc_agents.dcs import eventlog
from dc_agents.dcs import rpcapi

LOG = logging.getLogger(__name__)


def envelope(kwargs: dict):
    """(round id, (host, hypervisor), answer, error) of a round answer's
    arguments; MalformedMessage if its envelope is wrong.  ``error`` is
    None or (kind, message)."""
    if not isinstance(kwargs, dict):
        raise errors.MalformedMessage(
            what="round answer", reason="not a mapping"
        )
    host, hv = messages.node_identity(kwargs)
    round_id = messages.text(kwargs.get("round_id"), "round id", 64)
    error = kwargs.get("error")
    if error is not None:
        if not isinstance(error, dict):
            raise errors.MalformedMessage(
                what="round error", reason="not a mapping"
            )
        error = (
            messages.text(error.get("kind"), "error kind", 64),
            messages.text(error.get("message"), "error", 500),
        )
    key = (host, hv if hv is not None else host)
    return round_id, key, kwargs.get("answer"), error


def refused(args, exc) -> None:
    """Log and record (a rate-limited event) an answer refused for its
    envelope: a cast or notification has no caller to raise to."""
    LOG.warning("Round answer refused: %s", exc.message)
    subject = args.get("host") if isinstance(args, dict) else None
    eventlog.record_error(
        acaas_context.get_admin_context(), str(subject)[:255], exc
    )


class AnswerEndpoint:
    """DC-S's side: the batch endpoint of a worker's answers topic.

    ``sink(entries)`` takes a list of (round id, key, answer, error,
    signed arguments) at once (RoundRunner.answers)."""

    def __init__(self, sink):
        self.sink = sink

    def info(self, batch):
        entries = []
        for message in batch:
            payload = message.get("payload")
            try:
                if message.get("event_type") != rpcapi.ANSWER_EVENT:
                    raise errors.MalformedMessage(
                        what="round answer",
                        reason="event type %r"
                        % str(message.get("event_type"))[:40],
                    )
                round_id, key, answer, error = envelope(payload)
            except errors.MalformedMessage as exc:
                refused(payload, exc)
                continue
            entries.append((round_id, key, answer, error, payload))
        if entries:
            self.sink(entries)


def listener(conf, transport, worker: str, sink):
    """The batch notification listener of ``worker``'s answers (not
    started)."""
    return oslo_messaging.get_batch_notification_listener(
        rpc.notification_transport(conf, transport),
        [oslo_messaging.Target(topic=rpcapi.answers_topic(conf, worker))],
        [AnswerEndpoint(sink)],
        executor="threading",
        batch_size=conf.dcs.answer_batch_size,
        batch_timeout=conf.dcs.answer_batch_timeout,
    )
