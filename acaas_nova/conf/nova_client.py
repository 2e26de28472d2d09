"""Options of the ``[nova]`` group: how DC-S calls nova's compute API.

Continuous compliance fences untrusted hosts (disables their
nova-compute service) and moves their servers away through nova's public
API, with DC-S's service credentials (an admin of the cloud: it lists
every project's servers and migrates them).  The keystoneauth options
(``auth_type``, ``auth_url``, ``username``... ``valid_interfaces``,
``endpoint_override``) sit in this group too.
"""

from oslo_config import cfg

from acaas_nova.conf import group
from acaas_nova.conf import ksa

SERVICE_TYPE = "compute"

GROUP = cfg.OptGroup(
    "nova",
    title="nova API client options",
    help="How DC-S reaches nova's compute API to fence untrusted hosts "
    "and migrate their servers: keystoneauth service credentials and "
    "endpoint, and how servers are moved.",
)

OPTS = [
    cfg.BoolOpt(
        "live_migration",
        default=True,
        help="Move servers off a host by live migration. When false, "
        "servers are cold-migrated (they are stopped, moved and confirmed "
        "by DC-S, and then run again), which works without shared or "
        "block-migratable storage but interrupts them.",
    ),
    cfg.BoolOpt(
        "cold_migration_fallback",
        default=True,
        help="When nova refuses a live migration (the server's state or "
        "its hypervisor does not allow one), cold-migrate the server "
        "instead. When false such a server stays and is reported as not "
        "movable.",
    ),
    cfg.FloatOpt(
        "migration_timeout",
        default=900.0,
        min=1.0,
        help="Seconds DC-S waits for one migration to finish (the server "
        "back to ACTIVE with no task, or to VERIFY_RESIZE for a cold "
        "migration) before it reports it as timed out and checks it "
        "again on the next sweep.",
    ),
    cfg.FloatOpt(
        "poll_interval",
        default=2.0,
        min=0.01,
        help="Seconds between two reads of a migrating server's state.",
    ),
]


def register_opts(conf):
    group.register(conf, GROUP, OPTS)
    ksa.register(conf, GROUP.name, SERVICE_TYPE)


def list_opts():
    return {GROUP: OPTS + ksa.list_opts(SERVICE_TYPE)}
