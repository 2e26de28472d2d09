"""DC-C's RPC endpoint over the fake transport: validation and policy."""

import oslo_messaging
import pytest

from acaas_nova.attestation import errors as att_errors
from dc_agents import errors
from dc_agents import messages
from dc_agents.dcc import manager
from dc_agents.dcc import rpcapi
from tests.unit.dc_agents import fakerpc

SELECTION = {"sha256": list(range(11))}


class Agent:
    def __init__(self, fail=None):
        self.calls = []
        self.fail = fail

    def quote(self, nonce, selection, ima_offset):
        self.calls.append((nonce, selection, ima_offset))
        if self.fail:
            raise self.fail
        return {"ok": True}


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
        result = api.quote("node1", "node1", b"n" * 32, SELECTION, 7, 5)
    assert result == {"ok": True}
    assert agent.calls == [(b"n" * 32, SELECTION, 7)]


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
            client.call({}, "quote", **args)
    assert agent.calls == []


def test_platform_changed_reaches_dcs(conf):
    agent = Agent(att_errors.PlatformChanged(reason="PCR 7"))
    with _serve(conf, agent) as transport:
        api = rpcapi.DCCAPI(conf, transport)
        with pytest.raises(att_errors.PlatformChanged) as info:
            api.quote("node1", "node1", b"n" * 32, SELECTION, 0, 5)
    assert info.value.message.endswith("PCR 7")


def test_only_exposed_methods(conf):
    with _serve(conf, Agent()) as transport:
        client = rpcapi.DCCAPI(conf, transport).client.prepare(
            server="node1", timeout=5
        )
        with pytest.raises(oslo_messaging.MessagingException):
            client.call({}, "__init__", agent=None)
