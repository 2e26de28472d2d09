"""nova's own in-process cloud, with the ACaaS filter and weigher.

nova's functional-test base (``integrated_helpers``) runs the real API,
conductor, scheduler and fake-driver computes in this process, with
placement from openstack-placement; the API and placement are reached over
HTTP through wsgi-intercept.  Outside a test runner the test case is driven
by hand: :meth:`DemoCloud.start` is its ``setUp``, :meth:`stop` its
cleanups.  DC-S's compliance clients (:func:`compliance_clients`) are the
product's, over keystoneauth sessions; only the identity plugin stands in
for keystone, as nova's API fixture reads identity from headers.
"""

import importlib.metadata
import os
import time

import nova.conf
from keystoneauth1 import plugin
from keystoneauth1 import session as ks_session
from nova.tests.functional import integrated_helpers
from nova.tests.functional.api import client as api_client
from oslo_config import cfg

from acaas_nova import conf as acaas_conf
from acaas_nova import context as acaas_context
from acaas_nova import exception
from acaas_nova.db import api as db_api
from acaas_nova.db import migration
from acaas_nova.scheduler import runtime
from dc_agents.compliance import compute
from dc_agents.compliance import loop as loop_mod
from dc_agents.compliance import manager as manager_mod
from dc_agents.compliance import nova_cloud
from dc_agents.compliance import traits
from dc_agents.dcs import coordination

CONF = nova.conf.CONF
FILTER = "acaas_nova.scheduler.filters.acaas_filter.ACaaSFilter"
WEIGHER = "acaas_nova.scheduler.weighers.acaas_weigher.ACaaSWeigher"
BOOT_TIMEOUT = 30.0
#: flavor size -> memory (MB): the fake driver's hosts have 8 GB.
FLAVORS = {"small": 1024, "medium": 2048}


def api_paste_config() -> str:
    """nova's api-paste.ini as the nova wheel installs it."""
    for path in importlib.metadata.distribution("nova").files or ():
        if str(path).replace(os.sep, "/").endswith("etc/nova/api-paste.ini"):
            located = path.locate()
            if os.path.exists(located):
                return os.path.abspath(located)
    raise exception.DemoStepFailed(
        reason="nova's api-paste.ini is not installed"
    )


class FixtureIdentity(plugin.BaseAuthPlugin):
    """An admin identity, sent the way nova's API fixture reads it."""

    def __init__(self, endpoint, project_id):
        super().__init__()
        self._endpoint = endpoint
        self._project_id = project_id

    def get_headers(self, session, **kwargs):
        return {
            "X-Auth-User": "admin",
            "X-Auth-Project-Id": self._project_id,
            "X-Roles": "admin,member,reader",
        }

    def get_endpoint(self, session, **kwargs):
        return self._endpoint


class DemoCloud(integrated_helpers.ProviderUsageBaseTestCase):
    compute_driver = "fake.MediumFakeDriver"
    microversion = "latest"

    def __init__(self, db_url: str, hosts) -> None:
        super().__init__("idle")
        self.db_url = db_url
        self.hosts = tuple(hosts)

    def idle(self) -> None:
        """The test method testtools insists on; never run."""

    def start(self) -> None:
        acaas_conf.register_opts(CONF)
        self.flags(api_paste_config=api_paste_config(), group="wsgi")
        self.flags(connection=self.db_url, group="acaas_database")
        self.flags(
            available_filters=["nova.scheduler.filters.all_filters", FILTER],
            enabled_filters=list(CONF.filter_scheduler.enabled_filters)
            + ["ACaaSFilter"],
            weight_classes=["nova.scheduler.weights.all_weighers", WEIGHER],
            group="filter_scheduler",
        )
        # The scheduler re-reads trust and topology at most a second old.
        self.flags(snapshot_max_age=1, group="acaas")
        self.flags(allow_resize_to_same_host=False)
        db_api.configure(CONF, force=True)
        migration.upgrade()
        runtime.reset()
        self.addCleanup(db_api.dispose)
        self.addCleanup(runtime.reset)
        self.setUp()
        for host in self.hosts:
            self._start_compute(host)
        self.flavors = {
            size: self._create_flavor(
                name="acaas.%s" % size,
                memory_mb=mb,
                vcpu=1,
                disk=1,
                ephemeral=0,
            )
            for size, mb in FLAVORS.items()
        }

    def stop(self) -> None:
        self.doCleanups()

    def tenant(self, user: str, project: str):
        api = api_client.TestOpenStackClient(
            user,
            self.api_fixture.base_url,
            project_id=project,
            roles=["reader", "member"],
        )
        api.microversion = self.microversion
        return api

    def boot(self, api, name: str, flavor: str, hints: dict) -> dict:
        """Create a server through the API; wait for ACTIVE or ERROR."""
        body = self._build_server(
            name=name, flavor_id=self.flavors[flavor], networks="none"
        )
        request = {"server": body, "os:scheduler_hints": hints}
        server = api.post_server(request)
        deadline = time.monotonic() + BOOT_TIMEOUT
        while True:
            server = self.admin_api.get_server(server["id"])
            if server["status"] in ("ACTIVE", "ERROR"):
                return server
            if time.monotonic() > deadline:
                raise exception.DemoStepFailed(
                    reason="server %s still %s after %ds"
                    % (name, server["status"], BOOT_TIMEOUT)
                )
            time.sleep(0.1)

    def log_offset(self) -> int:
        """Where nova's captured log (its StandardLogging fixture, which
        holds the scheduler's and our filter's messages) ends now."""
        return len(self.stdlog.logger.output)

    def errors_since(self, offset: int, limit: int = 3) -> list[str]:
        """The last ``limit`` ERROR lines captured after ``offset``, e.g.
        why the filter refused every host of a request."""
        text = self.stdlog.logger.output[offset:]
        lines = [line for line in text.splitlines() if " ERROR " in line]
        return [line[:300] for line in lines[-limit:]]

    def disabled_computes(self) -> list[str]:
        """'host (reason)' of every disabled nova-compute service."""
        return [
            "%s (%s)" % (svc["host"], svc.get("disabled_reason"))
            for svc in self.admin_api.get_services(binary="nova-compute")
            if svc["status"] == "disabled"
        ]

    def host_of(self, server_id: str) -> str | None:
        server = self.admin_api.get_server(server_id)
        return server["OS-EXT-SRV-ATTR:host"]

    def compute_status(self, host: str) -> tuple[str, str | None]:
        (service,) = self.admin_api.get_services(
            binary="nova-compute", host=host
        )
        return service["status"], service.get("disabled_reason")

    def compliance_clients(self, dcs_conf, directory):
        """DC-S's nova and placement clients, reaching this cloud."""
        acaas_conf.register_client_opts(dcs_conf)
        base = self.api_fixture.base_url
        dcs_conf.set_override("endpoint_override", base, group="nova")
        dcs_conf.set_override("poll_interval", 0.1, group="nova")
        dcs_conf.set_override("migration_timeout", 60, group="nova")
        session = ks_session.Session(
            auth=FixtureIdentity(base, self.api_fixture.project_id)
        )
        nova_client = compute.NovaCompute.from_conf(dcs_conf, session=session)
        endpoint = self.placement.fixture.endpoint
        path = os.path.join(directory, "placement.conf")
        with open(path, "w") as f:
            f.write(
                "[placement]\nauth_type = admin_token\ntoken = %s\n"
                "endpoint = %s\nendpoint_override = %s\n"
                % (self.placement.fixture.token, endpoint, endpoint)
            )
        conf = cfg.ConfigOpts()
        acaas_conf.register_client_opts(conf)
        conf(["--config-file", path], project="acaas", default_config_files=[])
        return nova_client, traits.PlacementTraits.from_conf(conf)


def compliance_loop(cloud, daemons, base, cleanups):
    """DC-S's compliance loop (not started), reaching ``cloud`` over HTTP.

    The loop, manager and clients are the product's, what ``acaas-dcs``
    starts with ``[compliance] enabled``, built from DC-S's own config
    file.  It runs in the demo process in every mode: nova's in-process
    API and placement are reached through wsgi-intercept, which only this
    process has, so ``acaas-dcs`` runs with compliance disabled.
    """
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
