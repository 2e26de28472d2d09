"""Options of the ``[coordination]`` group: several DC-S workers at once.

Any number of ``acaas-dcs`` workers may share the database and the broker.
They find each other through a tooz coordination backend (Redis, etcd3,
ZooKeeper...) and split the compute nodes between them on a consistent
hash ring over the group's members.  With no backend a single worker owns
every node, which is the embedded default.
"""

from oslo_config import cfg

from acaas_nova.conf import group

GROUP = cfg.OptGroup(
    "coordination",
    title="DC-S coordination options",
    help="How several acaas-dcs workers share the compute nodes: the tooz "
    "backend they meet in, the group they join and the hash ring that "
    "assigns each node to exactly one live worker.",
)

OPTS = [
    cfg.StrOpt(
        "backend_url",
        default="",
        secret=True,
        help="tooz coordination backend URL, e.g. redis://127.0.0.1:6379, "
        "etcd3+http://127.0.0.1:2379 or zookeeper://127.0.0.1:2181. Empty: "
        "no coordination, this worker owns every node (run only one "
        "acaas-dcs then). Backend-specific tooz options may be given as "
        "URL query parameters; membership_timeout below takes precedence.",
    ),
    cfg.StrOpt(
        "member_id",
        help="Name of this worker in the group; must be unique among the "
        "workers. Default: <hostname>-<process id>, new on every start.",
    ),
    cfg.FloatOpt(
        "heartbeat_interval",
        default=1.0,
        min=0.1,
        help="Seconds between two heartbeats of this worker to the "
        "backend, and between two checks of the group membership. Keep "
        "it well below membership_timeout.",
    ),
    cfg.FloatOpt(
        "membership_timeout",
        default=10.0,
        min=1.0,
        help="Seconds without a heartbeat after which the backend forgets "
        "a worker (a killed worker, or one cut off from the network); the "
        "others then take over its nodes. Also the lifetime of a leader's "
        "lock. Keep it below [dcs] attestation_interval so that nodes move "
        "within one interval.",
    ),
    cfg.StrOpt(
        "group_name",
        default="acaas-dcs",
        help="tooz group the DC-S workers join. Workers of one cloud must "
        "use the same name; two clouds sharing a backend must not.",
    ),
    cfg.IntOpt(
        "ring_replicas",
        default=64,
        min=1,
        max=4096,
        help="Points per worker on the consistent hash ring. More points "
        "spread nodes more evenly between workers (about 1/sqrt(points) "
        "of imbalance) at a little memory; all workers must use the same "
        "value or they disagree about who owns what.",
    ),
]


def register_opts(conf):
    group.register(conf, GROUP, OPTS)


def list_opts():
    return {GROUP: OPTS}
