"""DC-S's operator endpoint over the fake transport: its methods live on
their own topic only, and bad arguments never reach the database."""

import oslo_messaging
import pytest

from dc_agents import errors
from dc_agents.dcs import manager
from dc_agents.dcs import operator
from dc_agents.dcs import operatorapi
from dc_agents.dcs import rpcapi
from tests.unit.dc_agents import fakerpc


class Attester:
    def __init__(self):
        self.calls = []

    def attest(self, key):
        self.calls.append(("attest", key))
        return {"host": key[0], "status": "trusted", "detail": ""}

    def forget(self, host, hv):
        self.calls.append(("forget", host, hv))


@pytest.fixture
def lookups(monkeypatch):
    """registration_get, recorded: proves what reached the database."""
    seen = []

    def registration_get(ctx, host, hv):
        seen.append((host, hv))
        return type("Reg", (), {"host": host, "hypervisor_hostname": hv})

    monkeypatch.setattr(
        "dc_agents.dcs.operator.attestation_db.registration_get",
        registration_get,
    )
    return seen


@pytest.fixture(scope="module")
def serving():
    """DC-S serving both endpoints, each on its own topic (one fake
    transport: the broker's permissions are not modelled here)."""
    conf = fakerpc.make_conf()
    attester = Attester()
    agents = manager.DCSManager(conf, None, attester, None)
    admin = operator.DCSOperatorManager(conf, attester)
    with fakerpc.serving(conf, conf.dcs.topic, "dcs", [agents]) as t:
        srv = fakerpc.rpc.get_server(
            conf, t, conf.dcs.operator_topic, "dcs", [admin]
        )
        srv.start()
        try:
            yield (
                rpcapi.DCSAPI(conf, t, timeout=5),
                operatorapi.OperatorAPI(conf, t, timeout=5),
                attester,
            )
        finally:
            srv.stop()
            srv.wait()


@pytest.fixture
def both(serving):
    serving[2].calls.clear()
    return serving


def test_topics_differ_by_default():
    conf = fakerpc.make_conf()
    assert conf.dcs.operator_topic == "acaas-dcs-admin"
    assert conf.dcs.operator_topic != conf.dcs.topic
    assert conf.dcs.operator_transport_url is None


@pytest.mark.parametrize("method", ["attest_host", "domain_add_host"])
def test_operator_methods_not_served_to_agents(both, lookups, method):
    agents, _, attester = both
    with pytest.raises(oslo_messaging.NoSuchMethod):
        agents.client.call(
            {}, method, host="n1", hypervisor_hostname=None, domain="d"
        )
    assert lookups == [] and attester.calls == []


def test_attest_host_on_the_operator_target(both, lookups):
    _, admin, attester = both
    assert admin.attest_host("n1")["status"] == "trusted"
    assert lookups == [("n1", None)]
    assert attester.calls == [("attest", ("n1", None))]


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        ({"host": "n1", "hypervisor_hostname": {"a": 1}}, "hypervisor"),
        ({"host": "n1", "hypervisor_hostname": ["n1"]}, "hypervisor"),
        ({"host": ["n1"]}, "host"),
        ({"host": None}, "host"),
        ({"host": "n1\n"}, "host"),
        ({"host": "x" * 300}, "host"),
        ({"host": "n1", "forwarded": "yes"}, "forwarded"),
    ],
)
def test_attest_host_arguments_checked_before_the_database(
    both, lookups, kwargs, needle
):
    _, admin, attester = both
    with pytest.raises(errors.MalformedMessage, match=needle):
        admin.client.call({}, "attest_host", **kwargs)
    assert lookups == [] and attester.calls == []


def test_domain_add_host_arguments_checked(both, lookups):
    _, admin, attester = both
    for kwargs in (
        {"host": "n1", "hypervisor_hostname": None, "domain": 3},
        {"host": "n1", "hypervisor_hostname": {"x": 1}, "domain": "d"},
    ):
        with pytest.raises(errors.MalformedMessage):
            admin.client.call({}, "domain_add_host", **kwargs)
    with pytest.raises(errors.MessageTooLarge):
        admin.domain_add_host("n1", None, "d" * 5000)
    assert attester.calls == []


def test_operator_target_not_served_without_its_own_transport(monkeypatch):
    from dc_agents.dcs import service

    conf = fakerpc.make_conf()
    agents = object()
    assert service._operator_transport(conf, agents) == (None, False)
    conf.set_override("operator_on_agent_transport", True, group="dcs")
    assert service._operator_transport(conf, agents) == (agents, False)
    opened = object()
    monkeypatch.setattr(operatorapi, "get_transport", lambda conf: opened)
    conf.set_override(
        "operator_transport_url", "rabbit://op@broker/ops", group="dcs"
    )
    assert service._operator_transport(conf, agents) == (opened, True)


@pytest.mark.parametrize("method", ["attest_host", "domain_add_host"])
def test_argument_named_context_is_an_argument(both, lookups, method):
    # Found while writing tests/fuzz/fuzz_rpc_messages.py: "context" in a
    # message collided with the endpoint's own parameter (a TypeError
    # before the method ran, logged by oslo.messaging with a traceback);
    # the context is positional-only now.
    _, admin, attester = both
    with pytest.raises(errors.MalformedMessage, match="host"):
        admin.client.call({}, method, host=None, context="x")
    assert lookups == [] and attester.calls == []
