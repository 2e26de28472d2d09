"""Round answers as notifications (DC-S API 1.3) over the fake transport:
a DC-C's answer reaches the asking worker's batch listener with its MAC'd
arguments as sent; a bad envelope is refused with an event; nothing is
logged with the payload when sending fails."""

import logging
import threading

import pytest

from acaas_nova.attestation import channel
from dc_agents import errors
from dc_agents import rpc
from dc_agents.dcs import answers
from dc_agents.dcs import rpcapi
from tests.unit.dc_agents import fakerpc

KEY = b"k" * 32
NONCE = b"n" * 32


class Sink:
    def __init__(self, expected):
        self.entries = []
        self.calls = 0
        self.expected = expected
        self.done = threading.Event()

    def __call__(self, entries):
        self.calls += 1
        self.entries.extend(entries)
        if len(self.entries) >= self.expected:
            self.done.set()


@pytest.fixture
def wired():
    """(conf, transport, a started listener factory)."""
    conf = fakerpc.make_conf()
    transport = rpc.get_transport(conf, url="fake://")
    started = []

    def listen(worker, sink):
        listener = answers.listener(conf, transport, worker, sink)
        listener.start()
        started.append(listener)
        return listener

    yield conf, transport, listen
    for listener in started:
        listener.stop()
        listener.wait()
    rpc.cleanup(transport)


def test_answer_reaches_the_asking_worker_only(wired, events):
    conf, transport, listen = wired
    mine, other = Sink(3), Sink(1)
    listen("w1", mine)
    listen("w2", other)
    api = rpcapi.DCSAPI(conf, transport)
    for n in range(3):
        api.round_answer(
            "w1", "r%d" % n, "n%d" % n, "n%d" % n, {"q": n}, None, KEY, NONCE
        )
    assert mine.done.wait(10), mine.entries
    assert other.entries == []
    round_id, key, raw, error, signed = mine.entries[0]
    assert (round_id, key, raw, error) == ("r0", ("n0", "n0"), {"q": 0}, None)
    # What arrives is exactly what was signed: the MAC checks.
    channel.verify(KEY, "round_answer", "n0", NONCE.hex(), signed)
    assert events == []


def test_a_burst_arrives_in_fewer_batches_than_answers(wired):
    conf, transport, listen = wired
    api = rpcapi.DCSAPI(conf, transport)
    for n in range(50):
        api.round_answer("w1", "r", "n%d" % n, None, {}, None, KEY, NONCE)
    sink = Sink(50)
    listen("w1", sink)  # the queue holds them already: one poll, many
    assert sink.done.wait(10), len(sink.entries)
    assert len(sink.entries) == 50
    assert sink.calls < 50


def test_error_answer_envelope():
    args = {
        "host": "n1",
        "hypervisor_hostname": None,
        "round_id": "r",
        "answer": None,
        "error": {"kind": "platform_changed", "message": "PCR 7"},
        "mac": "m",
    }
    assert answers.envelope(args) == (
        "r",
        ("n1", "n1"),
        None,
        ("platform_changed", "PCR 7"),
    )


@pytest.mark.parametrize(
    "payload, what",
    [
        ("not a mapping", "round answer"),
        ({"round_id": "r"}, "host"),
        ({"host": "n\n1", "round_id": "r"}, "host"),
        ({"host": "n1", "round_id": "r" * 65}, "round id"),
        ({"host": "n1", "round_id": "r", "error": "x"}, "round error"),
        (
            {"host": "n1", "round_id": "r", "error": {"kind": 1}},
            "error kind",
        ),
    ],
)
def test_bad_envelopes_refused(payload, what):
    with pytest.raises(errors.MalformedMessage, match=what):
        answers.envelope(payload)


def test_endpoint_refuses_bad_messages_with_an_event(events, caplog):
    sink = Sink(1)
    endpoint = answers.AnswerEndpoint(sink)
    good = {"host": "n1", "round_id": "r", "answer": {}, "mac": "m"}
    endpoint.info(
        [
            {"event_type": "compute.instance.create", "payload": good},
            {"event_type": rpcapi.ANSWER_EVENT, "payload": ["x"]},
            {"event_type": rpcapi.ANSWER_EVENT, "payload": good},
        ]
    )
    assert [e[:2] for e in sink.entries] == [("r", ("n1", "n1"))]
    assert events == [("n1", "ACAAS-DCS-001"), ("None", "ACAAS-DCS-001")]
    assert "Round answer refused" in caplog.text


def test_send_failure_logs_no_payload(monkeypatch, caplog):
    conf = fakerpc.make_conf()
    transport = rpc.get_transport(conf, url="fake://")
    try:
        api = rpcapi.DCSAPI(conf, transport)
        notifier = api.answers._notifier("w1")
        secret = "quote-over-nonce-" + NONCE.hex()

        def broken(*args, **kwargs):
            raise RuntimeError("broker gone")

        monkeypatch.setattr(
            rpc.notification_transport(conf, transport),
            "_send_notification",
            broken,
        )
        assert notifier is api.answers._notifier("w1")  # reused
        with caplog.at_level(logging.DEBUG):
            api.round_answer("w1", "r", "n1", None, secret, None, KEY, NONCE)
        assert "broker gone" in caplog.text
        assert secret not in caplog.text
        assert "(omitted)" in caplog.text
    finally:
        rpc.cleanup(transport)
