"""oslo.messaging over the in-memory ``fake://`` driver (unit tests only)."""

import contextlib

from oslo_config import cfg

from acaas_nova import conf as acaas_conf
from dc_agents import rpc


def make_conf():
    conf = cfg.ConfigOpts()
    acaas_conf.register_opts(conf)
    conf([], project="acaas", default_config_files=[])
    conf.set_override("max_message_bytes", 4096, group="dcs")
    return conf


@contextlib.contextmanager
def serving(conf, topic, server, endpoints):
    """A started RPC server on a fake transport; yields the transport."""
    transport = rpc.get_transport(conf, url="fake://")
    srv = rpc.get_server(conf, transport, topic, server, endpoints)
    srv.start()
    try:
        yield transport
    finally:
        srv.stop()
        srv.wait()
        rpc.cleanup(transport)
