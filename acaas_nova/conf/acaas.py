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
        "test clouds without DC-S: then trust is not checked, and a "
        "compute node acaas-nova has no record of (or one in no physical "
        "domain) still receives instances whose requests ask for no "
        "location, white-list or capability, so enabling the filter in an "
        "existing cloud does not stop scheduling.",
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
    cfg.IntOpt(
        "db_timeout",
        default=5,
        min=1,
        help="Seconds nova-scheduler waits for the ACaaS database: the "
        "connect, read and write timeouts of the driver (statement_timeout "
        "on PostgreSQL, the busy timeout on SQLite) and the longest a "
        "request waits for a snapshot load. oslo.db's start-up connection "
        "retries are disabled in the scheduler. A database that is down or "
        "stalled makes each request fail (no host passes) within this "
        "time, with one error logged per request; scheduling resumes by "
        "itself when the database answers again.",
    ),
    cfg.IntOpt(
        "record_queue_size",
        default=10000,
        min=1,
        help="Instance trust records the scheduler keeps queued for the "
        "background writer. When the queue is full (the database is down "
        "or much slower than scheduling) a request writes its own record "
        "synchronously, and is refused if that write fails too.",
    ),
    cfg.FloatOpt(
        "record_flush_interval",
        default=0.2,
        min=0.01,
        help="Seconds between flushes of the scheduler's queued instance "
        "trust records (one transaction per flush). Other scheduler "
        "processes see a record at most this long plus snapshot_max_age "
        "after it was queued; this process sees it at once.",
    ),
    cfg.IntOpt(
        "record_batch_size",
        default=500,
        min=1,
        help="Queued instance trust records that trigger a flush before "
        "record_flush_interval, and the most written in one statement.",
    ),
]


def register_opts(conf):
    group.register(conf, GROUP, OPTS)


def list_opts():
    return {GROUP: OPTS}
