"""Options of the ``[placement]`` group: how DC-S calls placement.

DC-S publishes attestation results as traits on compute nodes' resource
providers (``CUSTOM_ACAAS_TRUSTED``, ``CUSTOM_ACAAS_WL_<NAME>``...), so
flavors can require trust and placement prunes untrusted hosts before
nova's filters run.  The keystoneauth options (``auth_type``,
``auth_url``... ``endpoint_override``) sit in this group too.
"""

from oslo_config import cfg

from acaas_nova.conf import group
from acaas_nova.conf import ksa

SERVICE_TYPE = "placement"

GROUP = cfg.OptGroup(
    "placement",
    title="placement API client options",
    help="How DC-S reaches placement to publish trust as resource "
    "provider traits: keystoneauth service credentials and endpoint.",
)

OPTS = [
    cfg.BoolOpt(
        "publish_traits",
        default=True,
        help="Keep the CUSTOM_ACAAS_* traits of every attested compute "
        "node's resource provider current. When false DC-S leaves "
        "placement alone (traits it wrote earlier stay until removed by "
        "hand).",
    ),
    cfg.IntOpt(
        "generation_retries",
        default=5,
        min=1,
        help="How many times one trait update is re-read and re-written "
        "when another writer changed the resource provider in between "
        "(placement answers 409 on a stale generation) before DC-S gives "
        "up until the next attestation.",
    ),
]


def register_opts(conf):
    group.register(conf, GROUP, OPTS)
    ksa.register(conf, GROUP.name, SERVICE_TYPE)


def list_opts():
    return {GROUP: OPTS + ksa.list_opts(SERVICE_TYPE)}
