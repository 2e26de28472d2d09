"""acaas-dcs: the DC-S daemon (console script ``acaas-dcs``)."""

import logging
import os
import socket

from acaas_nova import context as acaas_context
from acaas_nova import exception
from acaas_nova.db import api as db_api
from dc_agents import daemon
from dc_agents import rpc
from dc_agents.dcc import rpcapi as dcc_rpcapi
from dc_agents.dcs import answers
from dc_agents.dcs import attester
from dc_agents.dcs import ca
from dc_agents.dcs import chains
from dc_agents.dcs import coordination
from dc_agents.dcs import dbwrite
from dc_agents.dcs import eventlog
from dc_agents.dcs import manager
from dc_agents.dcs import operator
from dc_agents.dcs import operatorapi
from dc_agents.dcs import registrar
from dc_agents.dcs import roundrunner
from dc_agents.dcs import worker as worker_mod

LOG = logging.getLogger(__name__)


def _read_bundle(conf):
    if not conf.dcs.ek_ca_bundle:
        LOG.warning("[dcs] ek_ca_bundle is not set: registrations refused")
        return None
    try:
        with open(conf.dcs.ek_ca_bundle, "rb") as bundle:
            return bundle.read()
    except OSError as exc:
        raise exception.ConfigError(reason="ek_ca_bundle: %s" % exc) from None


def worker_name(conf) -> str:
    """This worker's name: ``[dcs] worker_name`` or host name and pid."""
    return conf.dcs.worker_name or "%s-%d" % (
        socket.gethostname(),
        os.getpid(),
    )


class Service:
    """A built DC-S worker: RPC servers (agents', operator's), timers,
    coordination."""

    def __init__(
        self,
        server,
        wheel,
        coord,
        worker,
        compliance=None,
        operator_server=None,
        operator_transport=None,
        answers_listener=None,
    ):
        self.server = server
        self.wheel = wheel
        self.coord = coord
        self.worker = worker
        self.compliance = compliance
        self.operator_server = operator_server
        self.answers_listener = answers_listener
        # Cleaned up at stop when this service opened it.
        self.operator_transport = operator_transport

    def _servers(self):
        return [
            s
            for s in (self.answers_listener, self.server, self.operator_server)
            if s
        ]

    def start(self) -> None:
        self.coord.start()
        # Before serving: chains left stale by a worker killed between a
        # status change and its recomputation are recomputed (under the
        # group-wide chains lock, so with other workers running too).
        chains.repair(acaas_context.get_admin_context())
        self.worker.start()
        for server in self._servers():
            server.start()
        self.wheel.start()
        if self.compliance is not None:
            self.compliance.start()
        LOG.info(
            "acaas-dcs started: %d registered node(s) owned by %s",
            len(self.wheel),
            self.coord.member_id if self.coord.enabled else "this worker",
        )

    def stop(self) -> None:
        if self.compliance is not None:
            self.compliance.stop()
        for server in self._servers():
            server.stop()
        self.wheel.stop()
        self.worker.stop()
        self.coord.stop()
        chains.configure(None)
        for server in self._servers():
            server.wait()
        if self.operator_transport is not None:
            self.operator_transport.cleanup()


def _operator_transport(conf, transport):
    """(transport of the operator target or None, whether we opened it).

    None: no operator target is served (no operator_transport_url, and
    the agents' transport is not allowed for it).
    """
    if conf.dcs.operator_transport_url:
        return operatorapi.get_transport(conf), True
    if conf.dcs.operator_on_agent_transport:
        LOG.warning(
            "[dcs] operator_on_agent_transport is set: operator methods "
            "(attest_host, domain_add_host) are served on the agents' "
            "transport, where anyone holding the agents' broker "
            "credentials can call them (see docs/security.rst)"
        )
        return transport, False
    LOG.warning(
        "[dcs] operator_transport_url is not set: operator methods "
        "(attest_host, domain_add_host) are not served (see "
        "docs/security.rst)"
    )
    return None, False


def build(conf, transport, dcc_api=None, operator_transport=None):
    """A DC-S worker (:class:`Service`), wired but not started.

    ``dcc_api`` replaces the DC-C client (the benchmark's simulated nodes).
    ``operator_transport``: the operator target's transport (default:
    ``[dcs] operator_transport_url``, opened here, else ``transport``).
    """
    db_api.configure(conf)
    dbwrite.configure(conf)
    eventlog.configure(conf)
    ca_key, ca_cert = ca.load_or_create(conf.dcs.ca_path)
    coord = coordination.Coordination(conf)
    dcc_api = dcc_api or dcc_rpcapi.DCCAPI(conf, transport)
    name = coord.member_id if coord.enabled else worker_name(conf)
    att = attester.Attester(conf, worker_mod.NonceLog(dcc_api, name))
    runner = roundrunner.RoundRunner(
        conf,
        att,
        dcc_api,
        name,
        owns=coord.owns if coord.enabled else None,
    )
    owned_transport = False
    if operator_transport is None:
        operator_transport, owned_transport = _operator_transport(
            conf, transport
        )
    worker = worker_mod.Worker(
        conf,
        coord,
        runner,
        att,
        operatorapi.OperatorAPI(conf, operator_transport)
        if operator_transport is not None
        else None,
    )
    owned = worker.timers
    reg = registrar.Registrar(
        conf,
        ca_key,
        ca_cert,
        _read_bundle(conf),
        lambda host, hv: (att.forget(host, hv), owned.add((host, hv), 0.0)),
    )
    endpoint = manager.DCSManager(conf, reg, att, owned)
    admin = operator.DCSOperatorManager(
        conf, att, worker.forward if coord.enabled else None
    )
    # Each worker also answers on its own server name: round answers come
    # back to it, and the others forward requests for its nodes to it.
    # Registrations are read in a few queries before the first rounds.
    att.preload(acaas_context.get_admin_context())
    server = rpc.get_server(conf, transport, conf.dcs.topic, name, [endpoint])
    # Round answers of 1.3 agents: notifications on this worker's topic.
    answers_listener = answers.listener(conf, transport, name, owned.answers)
    operator_server = None
    if operator_transport is not None:
        operator_server = rpc.get_server(
            conf, operator_transport, conf.dcs.operator_topic, name, [admin]
        )
    if coord.enabled:
        chains.configure(lambda: coord.lock("chains"))
    return Service(
        server,
        runner,
        coord,
        worker,
        _compliance(conf, coord),
        operator_server,
        operator_transport if owned_transport else None,
        answers_listener,
    )


def _compliance(conf, coord):
    """The compliance loop when ``[compliance] enabled``, else None."""
    if not conf.compliance.enabled:
        return None
    # Imported here: only DC-S with compliance needs openstacksdk.
    from dc_agents.compliance import compute
    from dc_agents.compliance import loop
    from dc_agents.compliance import manager as manager_mod
    from dc_agents.compliance import nova_cloud
    from dc_agents.compliance import traits

    nova = compute.NovaCompute.from_conf(conf)
    placement = traits.PlacementTraits.from_conf(conf)
    ctx = acaas_context.get_admin_context()
    cloud = nova_cloud.NovaCloud(nova, placement)
    manager = manager_mod.ComplianceManager(conf, cloud, ctx)
    listener = None
    if conf.compliance.notifications:
        from dc_agents.compliance import notifications

        listener = notifications.listener(conf, ctx, cloud)
    return loop.ComplianceLoop(
        conf, coord, manager, placement, ctx, listener=listener
    )


def main(argv=None):
    conf, stop = daemon.prepare(argv, "acaas-dcs")
    try:
        transport = rpc.get_transport(conf)
        service = build(conf, transport)
        service.start()
    except exception.ACaaSException as exc:
        LOG.error("acaas-dcs cannot start: %s", exc)
        return 1
    while not stop.wait(1.0):
        pass
    LOG.info("acaas-dcs stopping")
    service.stop()
    rpc.cleanup(transport)
    return 0
