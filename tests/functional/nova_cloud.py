"""nova's in-process cloud with the ACaaS filter and weigher enabled.

Built on nova's own functional fixtures (``integrated_helpers``: real API,
conductor, scheduler and fake-driver computes in one process, placement from
openstack-placement).  acaas-nova's own database is a temporary SQLite file
migrated with our Alembic scripts; trust records are written through the DB
API, as DC-S will.

The infrastructure (five hosts, four domains, three locations)::

    host1  uk-a   UK   white-lists gold
    host2  uk-a   UK   gold, silver; node property gpu=yes
    host3  uk-b   UK   gold; uk-b's backup domains: uk-a (priority 1),
                       fr-a (priority 2)
    host4  fr-a   FR   gold
    host5  em-us  US   gold; emergency (federated) domain

Every node has the property slot=<its host name>.  Distances: UK-FR 5,
UK-US 50, FR-US 45; DE (no hosts) is 3 from FR and 8 from UK.
"""

import datetime
import os

import fixtures
import nova.conf
from nova.tests.functional import integrated_helpers
from nova.tests.functional.api import client as api_client

from acaas_nova import conf as acaas_conf
from acaas_nova import context as acaas_context
from acaas_nova.db import api as db_api
from acaas_nova.db import domains as domains_db
from acaas_nova.db import locations as locations_db
from acaas_nova.db import migration
from acaas_nova.db import nodes as nodes_db
from acaas_nova.demo.cloud import api_paste_config
from acaas_nova.scheduler import runtime

CONF = nova.conf.CONF

FILTER = "acaas_nova.scheduler.filters.acaas_filter.ACaaSFilter"
WEIGHER = "acaas_nova.scheduler.weighers.acaas_weigher.ACaaSWeigher"

HOSTS = {
    "host1": ("uk-a", ("gold",), {}),
    "host2": ("uk-a", ("gold", "silver"), {"gpu": "yes"}),
    "host3": ("uk-b", ("gold",), {}),
    "host4": ("fr-a", ("gold",), {}),
    "host5": ("em-us", ("gold",), {}),
}


def _forget_acaas_groups() -> None:
    """Drop our option groups from nova's (oslo.config's global) CONF.

    nova-scheduler registers them there, as these tests do; other tests in
    the same process expect the global CONF without them.  oslo.config has
    no public way to unregister a group, hence the private dictionary.
    """
    for name in ("acaas", "acaas_database"):
        CONF._groups.pop(name, None)


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class ACaaSCloudTestCase(integrated_helpers.ProviderUsageBaseTestCase):
    """Base class: start the cloud, our DB and the infrastructure records."""

    compute_driver = "fake.MediumFakeDriver"
    microversion = "latest"
    #: Whether nova-scheduler starts with our filter and weigher.
    acaas_enabled = True

    def setUp(self):
        # Added first, so it runs last: after nova's fixtures reset CONF.
        self.addCleanup(_forget_acaas_groups)
        acaas_conf.register_opts(CONF)
        self.flags(api_paste_config=api_paste_config(), group="wsgi")
        tmp = self.useFixture(fixtures.TempDir()).path
        self.flags(
            connection="sqlite:///" + os.path.join(tmp, "acaas.sqlite"),
            group="acaas_database",
        )
        self.flags(snapshot_max_age=0, group="acaas")
        self.flags(allow_resize_to_same_host=False)
        self._configure_scheduler(self.acaas_enabled)
        db_api.configure(CONF, force=True)
        migration.upgrade()
        runtime.reset()
        # Flush queued trust records (reset) before closing the engine.
        self.addCleanup(db_api.dispose)
        self.addCleanup(runtime.reset)
        self.ctx = acaas_context.get_admin_context()
        super().setUp()
        self._create_infrastructure()
        for host in HOSTS:
            self._start_compute(host)
        self.alice = self.client("alice", "project-a")
        self.bob = self.client("bob", "project-b")
        self.carol = self.client("carol", "project-a")

    def _clear_attrs(self):
        # nova drops every public attribute after a test; pytest's unittest
        # support has set the test method as one and deletes it afterwards,
        # so keep that one (this is what lets pytest run nova's test cases).
        method = self.__dict__.get(self._testMethodName)
        super()._clear_attrs()
        if method is not None:
            self.__dict__[self._testMethodName] = method

    def _configure_scheduler(self, enabled: bool) -> None:
        available = ["nova.scheduler.filters.all_filters"]
        enabled_filters = [
            f
            for f in CONF.filter_scheduler.enabled_filters
            if f != "ACaaSFilter"
        ]
        weighers = ["nova.scheduler.weights.all_weighers"]
        if enabled:
            available.append(FILTER)
            enabled_filters.append("ACaaSFilter")
            weighers.append(WEIGHER)
        self.flags(
            available_filters=available,
            enabled_filters=enabled_filters,
            weight_classes=weighers,
            group="filter_scheduler",
        )

    def restart_scheduler(self, acaas_enabled: bool) -> None:
        """Start nova-scheduler anew, with or without our plugin."""
        self._configure_scheduler(acaas_enabled)
        self.scheduler_service.stop()
        runtime.reset()
        self.scheduler_service = self.start_service("scheduler")

    def _create_infrastructure(self) -> None:
        for name in ("UK", "FR", "US", "DE"):
            locations_db.location_create(self.ctx, name)
        for a, b, d in (
            ("UK", "FR", 5),
            ("UK", "US", 50),
            ("FR", "US", 45),
            ("DE", "FR", 3),
            ("DE", "UK", 8),
        ):
            locations_db.distance_set(self.ctx, a, b, d)
        domains_db.domain_create(self.ctx, "uk-a", "UK")
        domains_db.domain_create(self.ctx, "uk-b", "UK")
        domains_db.domain_create(self.ctx, "fr-a", "FR")
        domains_db.domain_create(self.ctx, "em-us", "US", source="emergency")
        domains_db.backup_add(self.ctx, "uk-b", "uk-a", 1)
        domains_db.backup_add(self.ctx, "uk-b", "fr-a", 2)
        for host, (domain, whitelists, props) in HOSTS.items():
            nodes_db.node_create(self.ctx, host, host, domain=domain)
            # "slot" names the host, so a test can aim at one.
            for key, value in dict(props, slot=host).items():
                nodes_db.property_add(self.ctx, host, host, key, value)
            self.set_trust(host, "trusted", whitelists)

    def set_trust(self, host, status, whitelists=None, age=0):
        if whitelists is None:
            whitelists = HOSTS[host][1]
        nodes_db.node_set_trust(
            self.ctx,
            host,
            host,
            status,
            whitelists=whitelists,
            attested_at=now() - datetime.timedelta(seconds=age),
        )

    def flush_records(self) -> None:
        """Write the scheduler's queued trust records now."""
        self.assertTrue(runtime.get(CONF).recorder.flush())

    def client(self, user: str, project: str):
        api = api_client.TestOpenStackClient(
            user,
            self.api_fixture.base_url,
            project_id=project,
            roles=["reader", "member"],
        )
        api.microversion = self.microversion
        return api

    def boot(
        self,
        api=None,
        hints=None,
        flavor_id=None,
        expected_state="ACTIVE",
        host=None,
    ):
        """Create a server through the API and wait for its final state."""
        api = api or self.alice
        body = self._build_server(
            flavor_id=flavor_id, networks="none", host=host
        )
        request = {"server": body}
        if hints:
            request["os:scheduler_hints"] = hints
        server = api.post_server(request)
        return self._wait_for_state_change(server, expected_state)

    def host_of(self, server) -> str:
        # Only admins see where a server runs.
        return self.admin_api.get_server(server["id"])["OS-EXT-SRV-ATTR:host"]

    def assert_no_valid_host(self, server) -> None:
        self.assertEqual("ERROR", server["status"])
        fault = self.admin_api.get_server(server["id"])["fault"]
        self.assertIn("No valid host", fault["message"])

    def flavor_with(self, extra_specs: dict) -> str:
        flavor_id = self._create_flavor(memory_mb=512, vcpu=1, disk=1)
        self.admin_api.post_extra_spec(flavor_id, {"extra_specs": extra_specs})
        return flavor_id
