"""Options of the ``[acaas]`` group: scheduling behaviour."""

from oslo_config import cfg

from acaas_nova.conf import group

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
    cfg.FloatOpt(
        "snapshot_max_age",
        default=5.0,
        min=0.0,
        help="Seconds the scheduler filter and weigher reuse one snapshot "
        "of trust, domain and location state before reading it again from "
        "the ACaaS database (a handful of queries, never one per host). "
        "0 reads it for every request. A node that turns untrusted is "
        "avoided at most this long after DC-S records it.",
    ),
    cfg.FloatOpt(
        "weight_multiplier",
        default=10.0,
        help="Multiplier of the ACaaS weigher. Its normalised weight (1.0 "
        "for the most preferred hosts: in a requested location, or in the "
        "source host's physical domain for moves) is multiplied by this "
        "value; the default makes the ACaaS preference dominate nova's "
        "resource weighers, whose multipliers default to 1.0. With no "
        "location requested and no move, every host weighs the same and "
        "nova's own weighers decide alone.",
    ),
]


def register_opts(conf):
    group.register(conf, GROUP, OPTS)


def list_opts():
    return {GROUP: OPTS}
