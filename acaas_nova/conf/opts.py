"""Entry point for oslo-config-generator (namespace ``acaas_nova``)."""

import importlib

# Group modules in the order the sample file lists them.
_GROUP_MODULES = (
    "acaas",
    "database",
    "dcs",
    "dcc",
    "coordination",
    "compliance",
    "events",
    "nova_client",
    "placement_client",
)


def list_opts():
    """Return [(group, [opts])] for every acaas-nova option group."""
    result = []
    for name in _GROUP_MODULES:
        module = importlib.import_module("acaas_nova.conf." + name)
        for group, opts in module.list_opts().items():
            result.append((group, opts))
    return result
