"""acaas:domain_trust / acaas:backup_trust in a real, in-process nova.

The cloud is tests/functional/nova_cloud.py's: host1 (gold) and host2
(gold, silver) in uk-a; host3 (gold) in uk-b, whose backups are uk-a then
fr-a; host4 (gold) in fr-a; host5 (gold) in em-us (emergency).  Each test
first stores every domain's DCoT and CDCoT as defined, as DC-S does when
the members agree; a test then breaks a chain the way DC-S sees it (a
member turns untrusted, DC-S stores the DCoT as undefined).
"""

import time

from nova.tests.functional.api import client as api_client

from acaas_nova.db import compliance as compliance_db
from acaas_nova.db import domains as domains_db
from acaas_nova.db import requirements as requirements_db
from dc_agents.compliance import manager as manager_mod
from dc_agents.compliance import nova_cloud
from tests.functional import compliance_cloud
from tests.functional import nova_cloud as nc

DEADLINE = 90.0
DOMAINS = ("uk-a", "uk-b", "fr-a", "em-us")


def _chains_defined(test, *names):
    for name in names or DOMAINS:
        domains_db.domain_dcot_set(
            test.ctx, name, "d-" + name, "c-" + name, nc.now()
        )


def _chain_undefined(test, name):
    domains_db.domain_dcot_set(test.ctx, name, None, None, nc.now())


class DomainTrustBootTest(nc.ACaaSCloudTestCase):
    def setUp(self):
        super().setUp()
        _chains_defined(self)

    def test_hint_refused_until_every_member_qualifies(self):
        hints = {"acaas:domain_trust": "silver"}
        # host2 has silver, but its fellow member host1 does not.
        self.assert_no_valid_host(
            self.boot(hints=hints, expected_state="ERROR")
        )
        self.set_trust("host1", "trusted", ("gold", "silver"))
        server = self.boot(hints=hints)
        self.assertIn(self.host_of(server), ("host1", "host2"))
        # DC-S finds uk-a's members no longer agree: its DCoT is undefined.
        _chain_undefined(self, "uk-a")
        self.assert_no_valid_host(
            self.boot(hints=hints, expected_state="ERROR")
        )

    def test_an_untrusted_member_sends_new_servers_to_another_domain(self):
        hints = {"acaas:location": "UK", "acaas:domain_trust": "gold"}
        self.set_trust("host1", "untrusted")
        for _ in range(3):
            self.assertEqual("host3", self.host_of(self.boot(hints=hints)))
        # Without the chain requirement, host2 (trusted itself) is used.
        hosts = {
            self.host_of(self.boot(hints={"acaas:location": "UK"}))
            for _ in range(3)
        }
        self.assertIn("host2", hosts)

    def test_backup_trust_on_a_flavor(self):
        flavor = self.flavor_with({"acaas:backup_trust": "gold"})
        # fr-a, uk-b's second backup, loses its only member's trust.
        self.set_trust("host4", "untrusted")
        for _ in range(3):
            server = self.boot(
                hints={"acaas:location": "UK"}, flavor_id=flavor
            )
            self.assertIn(self.host_of(server), ("host1", "host2"))
        exc = self.assertRaises(
            api_client.OpenStackApiException,
            self.admin_api.post_extra_spec,
            flavor,
            {"extra_specs": {"acaas:domain_trust": "gold,,silver"}},
        )
        self.assertEqual(400, exc.response.status_code)

    def test_stored_specification(self):
        requirements_db.requirement_spec_create(
            self.ctx, "project-a", "chained", {"domain_trust": "silver"}
        )
        hints = {"acaas:requirement": "chained"}
        self.assert_no_valid_host(
            self.boot(hints=hints, expected_state="ERROR")
        )
        self.set_trust("host1", "trusted", ("gold", "silver"))
        self.assertIn(self.host_of(self.boot(hints=hints)), ("host1", "host2"))


class DomainTrustComplianceTest(compliance_cloud.ComplianceCloudTestCase):
    def setUp(self):
        super().setUp()
        self.dcs_conf.set_override("retry_backoff", 0, group="compliance")
        self.cloud = nova_cloud.NovaCloud(self.nova, self.traits)
        self.manager = manager_mod.ComplianceManager(
            self.dcs_conf, self.cloud, self.ctx
        )
        # uk-a gets a backup domain for this test.
        domains_db.backup_add(self.ctx, "uk-a", "fr-a", 1)
        _chains_defined(self)

    def _settled(self, server, host):
        def check():
            open_moves = compliance_db.action_list(
                self.ctx, states=["pending", "running"], kind="migrate"
            )
            return not open_moves and self.host_of(server) != host

        return check

    def test_broken_dcot_moves_the_server_to_a_backup_domain(self):
        chained = self.boot(
            api=self.admin_api,
            hints={"acaas:domain_trust": "gold"},
            host="host2",
        )
        plain = self.boot(api=self.admin_api, host="host2")
        self.assertEqual("host2", self.host_of(chained))
        self.assertEqual("host2", self.host_of(plain))
        # host1 turns untrusted; DC-S stores uk-a's DCoT as undefined.
        self.set_trust("host1", "untrusted")
        _chain_undefined(self, "uk-a")
        deadline = time.monotonic() + DEADLINE
        while not self._settled(chained, "host2")():
            self.flush_records()
            self.manager.sweep()
            if time.monotonic() > deadline:
                self.fail(
                    "server not moved within %ds: %s"
                    % (DEADLINE, compliance_db.action_list(self.ctx))
                )
            time.sleep(0.2)
        # Its own host is trusted, but its domain's chain is not: it went
        # to uk-a's backup domain, not to another uk-a host.
        self.assertEqual("host4", self.host_of(chained))
        self.assertEqual("host2", self.host_of(plain))
        (move,) = compliance_db.action_list(self.ctx, kind="migrate")
        self.assertEqual(
            (chained["id"], "done", "backup", "host2"),
            (move.subject, move.state, move.tier, move.source_host),
        )
        self.assertIn("no DCoT for white-list gold", move.reason)
        # host2 itself was not fenced; host1 was.
        self.assertEqual("enabled", self.nova.service_state("host2").status)
        self.assertEqual("disabled", self.nova.service_state("host1").status)
