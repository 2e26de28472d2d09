"""DC-C's registration loop: what it retries and what ends it."""

import threading

import oslo_messaging
import pytest

from acaas_nova import exception
from acaas_nova.attestation import errors as att_errors
from dc_agents import errors
from dc_agents.dcc import service


class Conf:
    class dcc:  # noqa: N801 (the option group's name)
        retry_interval = 0.01


class Agent:
    node = "node1"

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = 0

    def enrol(self):
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def test_registration_to_start_over_is_retried():
    agent = Agent(
        errors.RegistrationRetry(node="node1", reason="unknown session"),
        oslo_messaging.MessagingTimeout("no reply"),
        "registered",
    )
    assert service.enrol_until_done(agent, Conf, threading.Event())
    assert agent.calls == 3


def test_too_many_pending_is_retried_too(caplog):
    agent = Agent(
        errors.RegistrationRetry(
            node="node1", reason="1000 registrations are pending"
        ),
        "registered",
    )
    assert service.enrol_until_done(agent, Conf, threading.Event())
    assert "must start over: 1000 registrations are pending" in caplog.text


def test_a_database_failure_at_dcs_is_retried(caplog):
    """DC-S's database failed (a deadlock victim beyond its retries, an
    outage): not this node's fault, so the agent asks again."""
    agent = Agent(exception.DBError(reason="Deadlock found"), "registered")
    assert service.enrol_until_done(agent, Conf, threading.Event())
    assert "node1 failed at DC-S (Database error: Deadlock" in caplog.text


@pytest.mark.parametrize(
    "refusal",
    [
        errors.RegistrationRefused(node="node1", reason="another EK"),
        errors.EKNotDeclared(node="node1", reason="declared another EK"),
        att_errors.TPMError(operation="read EK", reason="no EK"),
    ],
)
def test_a_refusal_ends_the_loop(refusal):
    agent = Agent(refusal, "never reached")
    assert not service.enrol_until_done(agent, Conf, threading.Event())
    assert agent.calls == 1


def test_stop_ends_the_retries():
    stop = threading.Event()
    stop.set()
    assert not service.enrol_until_done(Agent(), Conf, stop)
