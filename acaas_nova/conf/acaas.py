"""Options of the ``[acaas]`` group: scheduling behaviour."""

from oslo_config import cfg

GROUP = cfg.OptGroup(
    "acaas",
    title="ACaaS scheduling options",
    help="How the ACaaS filter and weigher judge compute nodes.",
)

OPTS = [
    cfg.BoolOpt(
        "require_attestation",
        default=True,
        help="Place instances only on compute nodes whose most recent "
        "attestation succeeded and is younger than attestation_ttl. "
        "Nodes that are unknown, untrusted, stale, or that acaas-nova has "
        "no record of receive no instance (fail closed). Disable only in "
        "test clouds without DC-S.",
    ),
    cfg.IntOpt(
        "attestation_ttl",
        default=300,
        min=1,
        help="Seconds after a node's last successful attestation during "
        "which the scheduler still considers it trusted. Set it above the "
        "DC-S re-attestation interval plus its jitter.",
    ),
]


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(OPTS, group=GROUP)


def list_opts():
    return {GROUP: OPTS}
