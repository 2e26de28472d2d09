"""Start-up shared by the DC-S and DC-C daemons."""

import signal
import sys
import threading

from oslo_config import cfg
from oslo_log import log as oslo_log

from acaas_nova import conf as acaas_conf


def prepare(argv, prog):
    """Parse config and set up logging; returns (conf, stop event).

    The stop event is set by SIGTERM or SIGINT, so ``main()`` can shut its
    RPC server down gracefully.
    """
    conf = cfg.ConfigOpts()
    acaas_conf.register_opts(conf)
    oslo_log.register_options(conf)
    conf(
        argv if argv is not None else sys.argv[1:],
        project="acaas",
        prog=prog,
    )
    oslo_log.setup(conf, prog)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    return conf, stop
