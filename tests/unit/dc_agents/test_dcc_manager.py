"""DC-C's RPC endpoint over the fake transport: validation, policy and
the channel MAC every request must carry."""

import threading

import oslo_messaging
import pytest

from acaas_nova.attestation import channel
from acaas_nova.attestation import errors as att_errors
from dc_agents import errors
from dc_agents import messages
from dc_agents.dcc import manager
from dc_agents.dcc import rpcapi
from tests.unit.dc_agents import fakerpc

SELECTION = {"sha256": list(range(11))}
KEY = bytes(range(32))


class Agent:
    node = "node1"

    def __init__(self, fail=None):
        self.calls = []
        self.fail = fail
        self.ready = threading.Event()
        self.ready.set()
        self.channel_key = KEY
        self.reported = threading.Event()

    def quote(self, nonce, selection, ima_offset):
        self.calls.append((nonce, selection, ima_offset))
        if self.fail:
            raise self.fail
        return {"ok": True}

    def report_changed(self):
        self.reported.set()


@pytest.fixture
def conf():
    return fakerpc.make_conf()


def _serve(conf, agent):
    return fakerpc.serving(
        conf, conf.dcc.topic, "node1", [manager.DCCManager(agent)]
    )


def test_quote_reaches_the_agent(conf):
    agent = Agent()
    with _serve(conf, agent) as transport:
        api = rpcapi.DCCAPI(conf, transport)
        result = api.quote(
            "node1", "node1", b"n" * 32, SELECTION, 7, 5, key=KEY
        )
    # The answer carries a MAC bound to the nonce.
    channel.verify(KEY, "quote_answer", "node1", (b"n" * 32).hex(), result)
    assert {k: v for k, v in result.items() if k != "mac"} == {"ok": True}
    assert agent.calls == [(b"n" * 32, SELECTION, 7)]


def _args(**kwargs):
    args = {
        "nonce": messages.encode(b"n" * 32),
        "selection": SELECTION,
        "ima_offset": 0,
    }
    args.update(kwargs)
    return args


@pytest.mark.parametrize(
    "sign, error",
    [
        (lambda a: a, "no MAC"),
        (lambda a: dict(a, mac="0" * 64), "wrong MAC"),
        (lambda a: dict(a, mac="zz"), "malformed MAC"),
        (
            lambda a: channel.sign(
                b"k" * 32, "quote", "node1", (b"n" * 32).hex(), a
            ),
            "wrong MAC",
        ),
        (  # signed for another node
            lambda a: channel.sign(KEY, "quote", "node2", "6e" * 32, a),
            "wrong MAC",
        ),
        (  # signed, then a field changed
            lambda a: dict(
                channel.sign(KEY, "quote", "node1", (b"n" * 32).hex(), a),
                ima_offset=5,
            ),
            "wrong MAC",
        ),
    ],
)
def test_unauthenticated_requests_ignored(conf, sign, error):
    agent = Agent()
    with _serve(conf, agent) as transport:
        client = rpcapi.DCCAPI(conf, transport).client.prepare(
            server="node1", timeout=5
        )
        with pytest.raises(att_errors.ChannelError, match=error):
            client.call({}, "quote", **sign(_args()))
    assert agent.calls == []  # the TPM was not touched


def test_replayed_request_ignored(conf):
    agent = Agent()
    signed = channel.sign(KEY, "quote", "node1", (b"n" * 32).hex(), _args())
    with _serve(conf, agent) as transport:
        client = rpcapi.DCCAPI(conf, transport).client.prepare(
            server="node1", timeout=5
        )
        client.call({}, "quote", **signed)
        with pytest.raises(att_errors.ChannelReplay):
            client.call({}, "quote", **signed)
    assert len(agent.calls) == 1


def test_no_key_no_answer(conf):
    agent = Agent()
    agent.channel_key = None  # e.g. the platform changed before start
    with _serve(conf, agent) as transport:
        api = rpcapi.DCCAPI(conf, transport)
        with pytest.raises(att_errors.ChannelError, match="no channel key"):
            api.quote("node1", "node1", b"n" * 32, SELECTION, 0, 5, key=KEY)
    assert agent.calls == []


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"nonce": "%%"}, "nonce: not base64"),
        ({"nonce": messages.encode(b"n" * 65)}, "nonce: longer than 64"),
        ({"nonce": ""}, "nonce: empty"),
        ({"selection": {"md5": [1]}}, "bad bank"),
        ({"selection": {"sha256": [24]}}, "PCR index"),
        ({"selection": {"sha256": []}}, "bad PCR list"),
        ({"ima_offset": -3}, "IMA log offset"),
    ],
)
def test_bad_requests_refused(conf, kwargs, match):
    agent = Agent()
    args = {
        "nonce": messages.encode(b"n" * 32),
        "selection": SELECTION,
        "ima_offset": 0,
    }
    args.update(kwargs)
    with _serve(conf, agent) as transport:
        client = rpcapi.DCCAPI(conf, transport).client.prepare(
            server="node1", timeout=5
        )
        with pytest.raises(errors.MalformedMessage, match=match):
            client.call(
                {},
                "quote",
                **channel.sign(KEY, "quote", "node1", "6e" * 32, args),
            )
    assert agent.calls == []


def test_platform_changed_reaches_dcs(conf):
    agent = Agent(att_errors.PlatformChanged(reason="PCR 7"))
    with _serve(conf, agent) as transport:
        api = rpcapi.DCCAPI(conf, transport)
        with pytest.raises(att_errors.PlatformChanged) as info:
            api.quote("node1", "node1", b"n" * 32, SELECTION, 0, 5, key=KEY)
    assert info.value.message.endswith("PCR 7")
    # The reply is not authenticated: the agent reports it with its key.
    assert agent.reported.wait(5)


def test_only_exposed_methods(conf):
    with _serve(conf, Agent()) as transport:
        client = rpcapi.DCCAPI(conf, transport).client.prepare(
            server="node1", timeout=5
        )
        with pytest.raises(oslo_messaging.MessagingException):
            client.call({}, "__init__", agent=None)


def _round(**changes):
    args = {
        "round_id": "r1",
        "nonce": messages.encode(b"r" * 32),
        "worker": "w1",
        "selection": SELECTION,
        "asks": {"node1": 0},
        "macs": {"node1": "00" * 32},
    }
    args.update(changes)
    return args


@pytest.mark.parametrize(
    "changes, warning",
    [
        # Found by tests/fuzz/fuzz_rpc_messages.py: unexpected arguments
        # were a TypeError before the method ran (oslo.messaging logs it
        # with a traceback); an argument named "context" too.
        ({"": 1}, "unexpected arguments ''"),
        ({"context": {}}, "unexpected arguments 'context'"),
        # Found by the same: a non-ASCII MAC was a TypeError from
        # hmac.compare_digest.
        ({"macs": {"node1": "\u021c" * 64}}, "malformed MAC"),
    ],
)
def test_fuzz_regression_bad_rounds_refused_with_a_warning(
    changes, warning, caplog
):
    agent = Agent()
    agent.answer_round = lambda *args: agent.calls.append(args)
    endpoint = manager.DCCManager(agent)
    assert endpoint.attest_round({}, **_round(**changes)) is None
    assert agent.calls == []
    assert warning in caplog.text


def test_fuzz_regression_argument_named_context_is_an_argument(conf):
    # The request context is positional-only: "context" in a message is
    # one more argument (here: covered by the MAC, which it breaks).
    agent = Agent()
    with _serve(conf, agent) as transport:
        client = rpcapi.DCCAPI(conf, transport).client.prepare(
            server="node1", timeout=5
        )
        signed = channel.sign(KEY, "quote", "node1", "6e" * 32, _args())
        with pytest.raises(att_errors.ChannelMacInvalid):
            client.call({}, "quote", context="x", **signed)
    assert agent.calls == []
