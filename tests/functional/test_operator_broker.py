"""Operator methods behind the broker's own permissions, on real RabbitMQ.

The set-up of docs/security.rst ("Operator methods"), built with
``rabbitmqctl`` for one test run and removed afterwards: a vhost for the
agents and one for operators; DC-S's broker user holds both, the agents'
user only the first, the operator's user only the second.  A real DC-S
serves its agents' target on the first and its operator target on the
second.  The agents' user cannot open the operator vhost, hence cannot
publish to its exchange at all; on its own vhost nobody serves the
operator topic, and the agents' target does not know the operator
methods.  The operator's user reaches them (acaas-manage included).
"""

import contextlib
import os
import re
import shutil
import subprocess
import urllib.parse
import uuid

import amqp
import kombu
import oslo_messaging
import pytest

from acaas_nova import exception
from acaas_nova.cmd import manage
from acaas_nova.db import api as db_api
from dc_agents import rpc
from dc_agents.dcs import operatorapi
from dc_agents.dcs import rpcapi as dcs_rpcapi
from tests.functional import databases
from tests.functional import realparts
from tests.functional.daemons import RABBIT_URL
from tests.functional.daemons import Cluster
from tests.functional.swtpm import swtpm_ca_template  # noqa: F401 (fixture)
from tests.functional.test_daemons import DOMAIN
from tests.functional.test_daemons import _setup_db

#: Every permission on a vhost (configure, write, read).
ALL = (".*", ".*", ".*")


def operator_permissions(exchange: str) -> tuple[str, str, str]:
    """The operator's (configure, write, read) of docs/security.rst:
    oslo.messaging declares the RPC exchange before it publishes."""
    ours = "^(%s|reply_.*)$" % re.escape(exchange)
    return (ours, ours, "^reply_.*")


def _rabbitmqctl(*args) -> str:
    result = subprocess.run(
        ["rabbitmqctl", *args], capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        raise RuntimeError(
            "rabbitmqctl %s: %s" % (" ".join(args), result.stderr.strip())
        )
    return result.stdout


class Broker:
    """Vhosts and users made for one test run, removed at exit."""

    def __init__(self):
        realparts.require(
            shutil.which("rabbitmqctl") is not None, "rabbitmqctl"
        )
        server = urllib.parse.urlsplit(RABBIT_URL)
        self.netloc = "%s:%d" % (server.hostname, server.port or 5672)
        self.run = uuid.uuid4().hex[:10]
        self.vhosts: list[str] = []
        self.users: dict[str, str] = {}

    def vhost(self, role: str) -> str:
        name = "acaas-test-%s-%s" % (role, self.run)
        _rabbitmqctl("add_vhost", name)
        self.vhosts.append(name)
        return name

    def user(self, role: str, permissions: dict[str, tuple]) -> str:
        name = "acaas-test-%s-%s" % (role, self.run)
        password = uuid.uuid4().hex
        _rabbitmqctl("add_user", name, password)
        self.users[name] = password
        for vhost, perms in permissions.items():
            self.permit(name, vhost, perms)
        return name

    def permit(self, user: str, vhost: str, perms: tuple) -> None:
        _rabbitmqctl("set_permissions", "-p", vhost, user, *perms)

    def url(self, user: str, vhost: str) -> str:
        return "rabbit://%s:%s@%s/%s" % (
            user,
            self.users[user],
            self.netloc,
            urllib.parse.quote(vhost, safe=""),
        )

    def cleanup(self) -> None:
        for name in self.users:
            with contextlib.suppress(RuntimeError):
                _rabbitmqctl("delete_user", name)
        for name in self.vhosts:
            with contextlib.suppress(RuntimeError):
                _rabbitmqctl("delete_vhost", name)


@pytest.fixture(scope="module")
def setup(tmp_path_factory, swtpm_ca_template):  # noqa: F811
    broker = Broker()
    url, drop = databases.create("sqlite")
    cluster = None
    try:
        agents_vhost = broker.vhost("agents")
        operator_vhost = broker.vhost("operator")
        dcs = broker.user("dcs", {agents_vhost: ALL, operator_vhost: ALL})
        agent = broker.user("agent", {agents_vhost: ALL})
        operator = broker.user("operator", {})
        _setup_db(url)
        ca, _template = swtpm_ca_template
        cluster = Cluster(
            tmp_path_factory.mktemp("operator-broker"),
            url,
            ca.bundle_pem,
            transport_url=broker.url(dcs, agents_vhost),
            operator_transport_url=broker.url(dcs, operator_vhost),
        )
        # docs/security.rst's operator permissions: its reply queues, and
        # publishing to the RPC exchange (this run's control_exchange).
        broker.permit(
            operator,
            operator_vhost,
            operator_permissions(cluster.exchange),
        )
        cluster.start_dcs()
        yield {
            "cluster": cluster,
            "agent_url": broker.url(agent, agents_vhost),
            "agent_on_operator_vhost": broker.url(agent, operator_vhost),
            "operator_url": broker.url(operator, operator_vhost),
            "dcs_operator_url": broker.url(dcs, operator_vhost),
        }
    finally:
        if cluster is not None:
            cluster.stop_all()
        broker.cleanup()
        db_api.dispose()
        drop()


def _kombu_url(rabbit_url: str) -> str:
    return "amqp://" + rabbit_url[len("rabbit://") :]


def _publish(url: str, exchange: str, routing_key: str) -> None:
    """Publish one message the way an RPC client would (AMQP level)."""
    with kombu.Connection(_kombu_url(url), connect_timeout=5) as conn:
        conn.connect()
        producer = conn.Producer()
        producer.publish(
            {"oslo.message": "{}"},
            exchange=kombu.Exchange(exchange, "topic", durable=False),
            routing_key=routing_key,
            declare=[],
        )


def test_agents_user_cannot_publish_to_the_operator_target(setup):
    cluster = setup["cluster"]
    conf = cluster.client_conf()
    # At the AMQP level: the operator vhost refuses the agents' user, so
    # no message of theirs ever reaches the operator exchange or topic.
    with pytest.raises((amqp.exceptions.NotAllowed, amqp.AccessRefused)):
        _publish(
            setup["agent_on_operator_vhost"],
            cluster.exchange,
            conf.dcs.operator_topic,
        )
    # The operator's user may publish there.
    _publish(setup["operator_url"], cluster.exchange, conf.dcs.operator_topic)


def test_agents_user_reaches_no_operator_method(setup):
    cluster = setup["cluster"]
    conf = cluster.client_conf()
    transport = rpc.get_transport(conf, url=setup["agent_url"])
    try:
        # DC-S answers the agent on its own target, which does not expose
        # the operator methods ...
        agents = dcs_rpcapi.DCSAPI(conf, transport, timeout=20)
        assert (
            agents.registration_status("ghost", "ghost", "cid", b"k" * 32)
            is False
        )
        for method in ("attest_host", "domain_add_host"):
            with pytest.raises(oslo_messaging.RemoteError) as info:
                agents.client.call({}, method, host="ghost", domain=DOMAIN)
            assert info.value.exc_type == "NoSuchMethod"
        # ... and nobody serves the operator topic on the agents' vhost.
        rogue = operatorapi.OperatorAPI(conf, transport, timeout=3)
        with pytest.raises(oslo_messaging.MessagingTimeout):
            rogue.domain_add_host("ghost", None, DOMAIN)
    finally:
        transport.cleanup()


def test_operator_user_reaches_dcs(setup):
    cluster = setup["cluster"]
    conf = cluster.client_conf()
    conf.set_override(
        "operator_transport_url", setup["operator_url"], group="dcs"
    )
    transport = operatorapi.get_transport(conf)
    try:
        api = operatorapi.OperatorAPI(conf, transport, timeout=20)
        # Answers from the real DC-S: the request was delivered and judged.
        with pytest.raises(exception.NotFound, match="ghost"):
            api.attest_host("ghost")
        with pytest.raises(exception.NotFound):
            api.domain_add_host("ghost", None, DOMAIN)
    finally:
        transport.cleanup()
    assert "operator_transport_url is not set" not in (
        cluster.base / "dcs.log"
    ).read_text(errors="replace")


def test_acaas_manage_uses_the_operator_target(setup, capsys):
    cluster = setup["cluster"]
    text = cluster.common_conf().replace(
        setup["dcs_operator_url"], setup["operator_url"]
    )
    assert setup["operator_url"] in text
    path = cluster.base / "operator-manage.conf"
    path.write_text(text)
    os.chmod(path, 0o600)
    capsys.readouterr()
    rc = manage.main(["--config-file", str(path), "host", "attest", "ghost"])
    out, err = capsys.readouterr()
    assert (rc, out) == (2, ""), err
    assert err == "acaas-manage: error: Host ghost not found\n"
