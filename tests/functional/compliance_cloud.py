"""nova's in-process cloud, reached the way DC-S reaches a real one.

The cloud is :class:`tests.functional.nova_cloud.ACaaSCloudTestCase`
(five hosts, four domains, our filter and weigher).  On top of it this
base class builds DC-S's clients over HTTP, through nova's and placement's
wsgi-intercept endpoints, with keystoneauth sessions:

* placement runs with ``noauth2`` and takes the token ``admin``, so its
  client loads from a real ``[placement]`` group (``auth_type =
  admin_token``);
* nova's API fixture replaces keystonemiddleware by reading the caller's
  identity from ``X-Auth-User`` / ``X-Auth-Project-Id`` / ``X-Roles``, so
  the nova client gets :class:`FixtureIdentity`, a keystoneauth plugin
  that sends those headers in place of a token (the stand-in for keystone;
  everything above the session is the production code path).
"""

import fixtures
from keystoneauth1 import session as ks_session
from oslo_config import cfg

from acaas_nova import conf as acaas_conf
from acaas_nova.demo.cloud import FixtureIdentity
from dc_agents.compliance import compute
from dc_agents.compliance import traits
from tests.functional import nova_cloud


class ComplianceCloudTestCase(nova_cloud.ACaaSCloudTestCase):
    """The cloud plus DC-S's NovaCompute and PlacementTraits clients."""

    def setUp(self):
        super().setUp()
        self.dcs_conf = cfg.ConfigOpts()
        acaas_conf.register_opts(self.dcs_conf)
        acaas_conf.register_client_opts(self.dcs_conf)
        self.dcs_conf([], project="acaas", default_config_files=[])
        self.dcs_conf.set_override("poll_interval", 0.05, group="nova")
        self.dcs_conf.set_override("migration_timeout", 60, group="nova")
        # The API base URL ends in the version; openstacksdk discovers the
        # microversion range there.
        base = self.api_fixture.base_url
        session = ks_session.Session(
            auth=FixtureIdentity(base, self.api_fixture.project_id)
        )
        self.dcs_conf.set_override("endpoint_override", base, group="nova")
        self.nova = compute.NovaCompute.from_conf(
            self.dcs_conf, session=session
        )
        self.placement_endpoint = self.placement.fixture.endpoint
        self.traits = traits.PlacementTraits.from_conf(self._placement_conf())

    def _placement_conf(self):
        path = self.useFixture(fixtures.TempDir()).join("placement.conf")
        with open(path, "w") as f:
            f.write(
                "[placement]\nauth_type = admin_token\ntoken = %s\n"
                "endpoint = %s\nendpoint_override = %s\n"
                % (
                    self.placement.fixture.token,
                    self.placement_endpoint,
                    self.placement_endpoint,
                )
            )
        conf = cfg.ConfigOpts()
        acaas_conf.register_client_opts(conf)
        conf(["--config-file", path], project="acaas", default_config_files=[])
        return conf
