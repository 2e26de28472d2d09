"""acaas-dcc: the DC-C daemon (console script ``acaas-dcc``)."""

import logging
import threading

import oslo_messaging

from acaas_nova import exception
from dc_agents import daemon
from dc_agents import errors
from dc_agents import rpc
from dc_agents.dcc import agent as agent_mod
from dc_agents.dcc import manager
from dc_agents.dcc import rpcapi as dcc_rpcapi
from dc_agents.dcs import rounds
from dc_agents.dcs import rpcapi as dcs_rpcapi

LOG = logging.getLogger(__name__)


def enrol_until_done(agent, conf, stop: threading.Event) -> bool:
    """Register (or confirm registration), retrying while DC-S or the
    broker is unreachable, DC-S asks to start over (RegistrationRetry) or
    its database failed; False if stopped or refused."""
    while not stop.is_set():
        try:
            agent.enrol()
            return True
        except oslo_messaging.MessagingException as exc:
            LOG.warning(
                "DC-S unreachable (%s); retrying in %ss",
                rpc.remote_message(exc),
                conf.dcc.retry_interval,
            )
        except errors.RegistrationRetry as exc:
            LOG.warning(
                "%s; retrying in %ss", exc.message, conf.dcc.retry_interval
            )
        except exception.DBError as exc:
            # Not this node's fault: DC-S rolled back what it had begun.
            LOG.warning(
                "Registration of %s failed at DC-S (%s); retrying in %ss",
                agent.node,
                exc.message,
                conf.dcc.retry_interval,
            )
        except exception.ACaaSException as exc:
            LOG.error("Registration of %s failed: %s", agent.node, exc.message)
            return False
        stop.wait(conf.dcc.retry_interval)
    return False


def main(argv=None):
    conf, stop = daemon.prepare(argv, "acaas-dcc")
    transport = rpc.get_transport(conf)
    api = dcs_rpcapi.DCSAPI(conf, transport, timeout=conf.dcc.rpc_timeout)
    agent = agent_mod.Agent(conf, api)
    name = rpc.server_name(agent.host, agent.hypervisor)
    endpoint = manager.DCCManager(agent)
    server = rpc.get_server(conf, transport, conf.dcc.topic, name, [endpoint])
    # Rounds of this node's partition arrive as fanout casts.
    partition = rounds.partition(name, conf.dcs.round_partitions)
    round_server = rpc.get_server(
        conf,
        transport,
        dcc_rpcapi.round_topic(conf, partition),
        name,
        [endpoint],
    )
    server.start()  # before registering: DC-S attests as soon as it is done
    round_server.start()
    ok = enrol_until_done(agent, conf, stop)
    if ok:
        LOG.info("acaas-dcc serving attestation requests as %s", name)
        while ok and not stop.wait(1.0):
            if agent.approval_lapsed():
                LOG.warning(
                    "Registration of %s was not approved in time; "
                    "registering again",
                    agent.node,
                )
                ok = enrol_until_done(agent, conf, stop)
    round_server.stop()
    server.stop()
    round_server.wait()
    server.wait()
    rpc.cleanup(transport)
    return 0 if ok or stop.is_set() else 1
