"""DC-S's compliance loop, reaching the demo's nova over HTTP.

The loop, manager and clients are the product's (what ``acaas-dcs``
starts with ``[compliance] enabled``), built from DC-S's own config file.
It runs in the demo process in every mode: nova's in-process API and
placement are reached through wsgi-intercept, which only this process
has, so the ``acaas-dcs`` processes run with compliance disabled.
"""

from acaas_nova import context as acaas_context
from dc_agents.compliance import loop as loop_mod
from dc_agents.compliance import manager as manager_mod
from dc_agents.compliance import nova_cloud
from dc_agents.dcs import coordination


def build(cloud, daemons, base, cleanups):
    """A ComplianceLoop (not started); its stop joins ``cleanups``."""
    conf = daemons.dcs_conf()
    nova_client, placement = cloud.compliance_clients(conf, str(base))
    ctx = acaas_context.get_admin_context()
    manager = manager_mod.ComplianceManager(
        conf, nova_cloud.NovaCloud(nova_client, placement), ctx
    )
    loop = loop_mod.ComplianceLoop(
        conf, coordination.Coordination(conf), manager, placement, ctx
    )
    cleanups.append(loop.stop)
    return loop
