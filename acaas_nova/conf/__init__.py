"""Configuration of acaas-nova.

Nothing is registered at import time: callers own a ``ConfigOpts`` (nova's
global CONF inside nova-scheduler, a fresh one in our CLI and daemons) and
call :func:`register_opts` on it.
"""

from acaas_nova.conf import acaas
from acaas_nova.conf import coordination
from acaas_nova.conf import database
from acaas_nova.conf import dcc
from acaas_nova.conf import dcs

_MODULES = (acaas, database, dcs, dcc, coordination)


def register_opts(conf):
    """Register every acaas-nova option group on ``conf`` (idempotent)."""
    for module in _MODULES:
        module.register_opts(conf)
