"""DC-S's RPC endpoint over the fake transport: bad input is refused
before it reaches registration, with an event (recorded in memory here)."""

import pytest

from dc_agents import errors
from dc_agents.dcs import manager
from dc_agents.dcs import rpcapi
from tests.unit.dc_agents import fakerpc


class Registrar:
    def __init__(self):
        self.calls = []

    def begin(self, ctx, *args):
        self.calls.append(args)
        return {"session": "s"}


@pytest.fixture
def dcs(events):
    conf = fakerpc.make_conf()
    registrar = Registrar()
    endpoint = manager.DCSManager(conf, registrar, None, None)
    with fakerpc.serving(conf, conf.dcs.topic, "dcs", [endpoint]) as t:
        yield rpcapi.DCSAPI(conf, t, timeout=5), registrar


def test_register_passes_decoded_evidence(dcs, events):
    api, registrar = dcs
    assert api.register("n1", "n1", b"ek", b"cert", b"ak") == {"session": "s"}
    assert registrar.calls == [("n1", "n1", b"ek", b"cert", b"ak")]
    assert events == []


def test_oversized_request(dcs, events):
    api, registrar = dcs
    with pytest.raises(errors.MessageTooLarge, match="register request"):
        api.register("n1", "n1", b"x" * 5000, b"c", b"a")
    assert registrar.calls == []
    assert events == [("n1", "ACAAS-DCS-002")]


def test_malformed_requests(dcs, events):
    api, registrar = dcs
    with pytest.raises(errors.MalformedMessage, match="EK public"):
        api.client.call(
            {},
            "register",
            host="n1",
            ek_public="!!",
            ek_certificate="",
            ak_public="",
        )
    with pytest.raises(errors.MalformedMessage, match="host"):
        api.client.call({}, "register", host=17)
    with pytest.raises(errors.MalformedMessage, match="session"):
        api.client.call({}, "activate", host="n1", session=None)
    assert registrar.calls == []
    assert [e[1] for e in events] == ["ACAAS-DCS-001"] * 3


@pytest.mark.parametrize(
    "method",
    [
        "register",
        "activate",
        "registration_status",
        "platform_changed",
    ],
)
def test_argument_named_context_is_an_argument(dcs, events, method):
    # Found while writing tests/fuzz/fuzz_rpc_messages.py: "context" in a
    # message collided with the endpoint's own parameter (a TypeError
    # before the method ran, logged by oslo.messaging with a traceback);
    # the context is positional-only now.
    api, registrar = dcs
    with pytest.raises(errors.MalformedMessage, match="host"):
        api.client.call({}, method, host=17, context={"user": "x"})
    assert registrar.calls == []
    assert [e[1] for e in events] == ["ACAAS-DCS-001"]
