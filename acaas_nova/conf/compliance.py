"""Options of the ``[compliance]`` group: continuous compliance in DC-S.

The compliance manager keeps every running server's requirements true: it
fences hosts that turn untrusted (disables their nova-compute service),
moves their servers through nova's API to hosts that still qualify, and
stops itself (the breaker) when too many hosts turn untrusted at once.
"""

from oslo_config import cfg

from acaas_nova.conf import group

GROUP = cfg.OptGroup(
    "compliance",
    title="Continuous compliance options",
    help="The compliance manager of DC-S: fencing untrusted hosts and "
    "moving their servers, by priority, to hosts that still satisfy each "
    "server's requirements.",
)

OPTS = [
    cfg.BoolOpt(
        "enabled",
        default=False,
        help="Run the compliance manager in acaas-dcs. It needs the [nova] "
        "service credentials. Off, untrusted hosts only stop receiving "
        "new servers (the scheduler filter still fails closed).",
    ),
    cfg.FloatOpt(
        "sweep_interval",
        default=60.0,
        min=1.0,
        help="Seconds between two full sweeps that re-check every tracked "
        "server against its stored requirements and reconcile the servers "
        "nova reports on each host. Trust changes (status, satisfied "
        "white-lists, a domain's DCoT/CDCoT) and operator changes made with "
        "acaas-manage (a node's domain or properties, a domain's location, "
        "capabilities or backups, distances, maintenance, a withdrawn "
        "white-list) trigger a sweep at the next round (every [dcs] "
        "attestation_interval); the periodic one makes sure nothing depends "
        "on one event.",
    ),
    cfg.FloatOpt(
        "unknown_grace",
        default=300.0,
        min=0.0,
        help="Seconds a host may stay 'unknown' (not answering attestation) "
        "before it is treated like an untrusted one: fenced, and its "
        "servers moved.",
    ),
    cfg.FloatOpt(
        "max_untrusted_fraction",
        default=0.2,
        min=0.0,
        max=1.0,
        help="The breaker: when more than this fraction of all hosts turns "
        "untrusted within one sweep interval (a bad white-list push, a CA "
        "mistake), hosts are fenced but no server is moved; a critical "
        "event is raised and the manager waits for 'acaas-manage "
        "compliance resume'.",
    ),
    cfg.IntOpt(
        "max_concurrent_moves",
        default=8,
        min=1,
        help="Migrations in flight at once, in the whole cloud.",
    ),
    cfg.IntOpt(
        "max_moves_per_host",
        default=2,
        min=1,
        help="Migrations in flight at once from one source host.",
    ),
    cfg.IntOpt(
        "max_attempts",
        default=5,
        min=1,
        help="Attempts to move one server before it is reported as stuck "
        "(it is tried again on a later sweep, when something changed).",
    ),
    cfg.FloatOpt(
        "retry_backoff",
        default=30.0,
        min=0.0,
        help="Seconds before the first retry of a failed move; each further "
        "retry waits twice as long.",
    ),
    cfg.BoolOpt(
        "notifications",
        default=False,
        help="Follow nova's versioned notifications (nova.conf "
        "[notifications] notification_format = versioned or both) on the "
        "broker of [oslo_messaging_notifications] transport_url (or the "
        "default transport_url): a server that arrives on a host that is "
        "not trusted, or that did not pass our filter, is re-checked at "
        "once instead of at the next periodic sweep, and a deleted "
        "server's trust record is removed. Sweeps reconcile with nova's "
        "API either way; a lost notification only delays a check.",
    ),
    cfg.ListOpt(
        "notification_topics",
        default=["versioned_notifications"],
        help="Topics nova publishes its versioned notifications on (nova's "
        "[notifications] versioned_notifications_topics).",
    ),
    cfg.StrOpt(
        "notification_pool",
        default="acaas-compliance",
        help="Listener pool of the DC-S workers: every worker listens in "
        "this pool, so each notification reaches exactly one of them and "
        "other consumers of nova's notifications (e.g. ceilometer) still "
        "get their own copy.",
    ),
]


def register_opts(conf):
    group.register(conf, GROUP, OPTS)


def list_opts():
    return {GROUP: OPTS}
