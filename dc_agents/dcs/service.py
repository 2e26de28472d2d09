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
from dc_agents.dcs import attester
from dc_agents.dcs import ca
from dc_agents.dcs import dbwrite
from dc_agents.dcs import manager
from dc_agents.dcs import registrar
from dc_agents.dcs import roundrunner

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


def build(conf, transport, dcc_api=None):
    """(RPC server, round runner) of a DC-S, wired but not started.

    ``dcc_api`` replaces the DC-C client (the benchmark's simulated nodes).
    """
    db_api.configure(conf)
    dbwrite.configure(conf)
    ca_key, ca_cert = ca.load_or_create(conf.dcs.ca_path)
    dcc_api = dcc_api or dcc_rpcapi.DCCAPI(conf, transport)
    att = attester.Attester(conf, dcc_api)
    worker = worker_name(conf)
    wheel = roundrunner.RoundRunner(conf, att, dcc_api, worker)
    reg = registrar.Registrar(
        conf,
        ca_key,
        ca_cert,
        _read_bundle(conf),
        lambda host, hv: (att.forget(host, hv), wheel.add((host, hv), 0.0)),
    )
    endpoint = manager.DCSManager(conf, reg, att, wheel)
    server = rpc.get_server(
        conf, transport, conf.dcs.topic, worker, [endpoint]
    )
    for key in att.preload(acaas_context.get_admin_context()):
        wheel.add(key)
    return server, wheel


def main(argv=None):
    conf, stop = daemon.prepare(argv, "acaas-dcs")
    try:
        transport = rpc.get_transport(conf)
        server, wheel = build(conf, transport)
    except exception.ACaaSException as exc:
        LOG.error("acaas-dcs cannot start: %s", exc)
        return 1
    server.start()
    wheel.start()
    LOG.info("acaas-dcs started: %d registered node(s)", len(wheel))
    while not stop.wait(1.0):
        pass
    LOG.info("acaas-dcs stopping")
    server.stop()
    wheel.stop()
    server.wait()
    transport.cleanup()
    return 0
