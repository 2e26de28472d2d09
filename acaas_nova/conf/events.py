"""Options of the ``[events]`` group: the event log's limits."""

from oslo_config import cfg

from acaas_nova.conf import group

GROUP = cfg.OptGroup(
    "events",
    title="Event log options",
    help="How much DC-S writes to the ACaaS event log, and how long it is "
    "kept.",
)

OPTS = [
    cfg.IntOpt(
        "burst",
        default=10,
        min=1,
        help="Events of one kind (event id) about one subject recorded at "
        "once before rate limiting starts. Further ones are counted, and "
        "the count is reported with the next event recorded.",
    ),
    cfg.FloatOpt(
        "rate",
        default=0.2,
        min=0.0,
        help="Events of one kind about one subject recorded per second once "
        "the burst is used up (0.2: one every five seconds). Trust changes "
        "are never dropped: they are rate-limited only after the burst, "
        "like any event, and the state itself is always written.",
    ),
    cfg.IntOpt(
        "retention_days",
        default=90,
        min=0,
        help="Days events are kept; 'acaas-manage event purge' and DC-S "
        "delete older ones. 0 keeps them forever.",
    ),
]


def register_opts(conf):
    group.register(conf, GROUP, OPTS)


def list_opts():
    return {GROUP: OPTS}
