"""Configuration of acaas-nova.

Nothing is registered at import time: callers own a ``ConfigOpts`` (nova's
global CONF inside nova-scheduler, a fresh one in our CLI and daemons) and
call :func:`register_opts` on it.
"""

from acaas_nova.conf import acaas
from acaas_nova.conf import compliance
from acaas_nova.conf import coordination
from acaas_nova.conf import database
from acaas_nova.conf import dcc
from acaas_nova.conf import dcs
from acaas_nova.conf import events
from acaas_nova.conf import nova_client
from acaas_nova.conf import placement_client

_MODULES = (acaas, database, dcs, dcc, coordination, compliance, events)
#: Groups only DC-S uses.  Kept out of :func:`register_opts`, which
#: nova-scheduler calls on nova's own CONF: nova has a ``[placement]``
#: group of its own there.
_CLIENT_MODULES = (nova_client, placement_client)


def register_opts(conf):
    """Register every acaas-nova option group on ``conf`` (idempotent)."""
    for module in _MODULES:
        module.register_opts(conf)


def register_client_opts(conf):
    """Register DC-S's ``[nova]`` and ``[placement]`` groups (idempotent).

    Never call this on nova's CONF (see ``_CLIENT_MODULES``).
    """
    for module in _CLIENT_MODULES:
        module.register_opts(conf)
