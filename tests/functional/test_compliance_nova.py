"""DC-S's nova and placement clients against nova's in-process cloud.

Everything crosses HTTP: openstacksdk and keystoneauth reach nova's API
and placement through their wsgi-intercept endpoints; nova's scheduler
runs our filter, so every destination is checked by it.  The cloud is
described in tests/functional/nova_cloud.py (host1, host2 in uk-a...).
"""

import time

import fixtures

from acaas_nova.compliance import trait_names as tn
from dc_agents.compliance import errors
from tests.functional import compliance_cloud

OURS = "ACaaS: untrusted (event ev-1)"


class FenceTestCase(compliance_cloud.ComplianceCloudTestCase):
    def test_fence_disables_with_our_reason_and_unfence_enables(self):
        state = self.nova.fence("host1", "ev-1")
        self.assertEqual("disabled", state.status)
        self.assertEqual(OURS, state.disabled_reason)
        self.assertTrue(self.nova.service_state("host1").fenced_by_us)
        # Fencing again changes nothing.
        self.assertEqual(
            OURS, self.nova.fence("host1", "ev-2").disabled_reason
        )
        self.assertTrue(self.nova.unfence("host1"))
        self.assertEqual("enabled", self.nova.service_state("host1").status)
        self.assertFalse(self.nova.unfence("host1"))

    def test_a_forced_boot_does_not_land_on_a_fenced_host(self):
        self.nova.fence("host1", "ev-1")
        # An admin's "zone:host" skips the filters; the disabled service
        # still keeps it off (nova's compute-status prefilter).
        body = self._build_server(networks="none", az="nova:host1")
        server = self.admin_api.post_server({"server": body})
        server = self._wait_for_state_change(server, "ERROR")
        self.assert_no_valid_host(server)
        self.nova.unfence("host1")
        body = self._build_server(networks="none", az="nova:host1")
        server = self.admin_api.post_server({"server": body})
        server = self._wait_for_state_change(server, "ACTIVE")
        self.assertEqual("host1", self.host_of(server))

    def test_a_service_an_operator_disabled_stays_disabled(self):
        service = self.admin_api.get_services(
            host="host2", binary="nova-compute"
        )[0]
        self.admin_api.put_service(
            service["id"],
            {"status": "disabled", "disabled_reason": "disk swap"},
        )
        # Fencing keeps the operator's reason; unfencing leaves it alone.
        self.assertEqual(
            "disk swap", self.nova.fence("host2", "ev-1").disabled_reason
        )
        self.assertFalse(self.nova.unfence("host2"))
        state = self.nova.service_state("host2")
        self.assertEqual(
            ("disabled", "disk swap"), (state.status, state.disabled_reason)
        )
        with self.assertRaises(errors.ServiceNotFound) as ctx:
            self.nova.fence("no-such-host", "ev-1")
        self.assertNotIn("\n", str(ctx.exception))


class MigrationTestCase(compliance_cloud.ComplianceCloudTestCase):
    def _server_on(self, host, api=None):
        # Requesting a host (microversion 2.74) is for admins; the owners'
        # servers aim at one with our "slot" capability instead, which pins
        # them there (so these do not migrate).
        if api is None:
            server = self.boot(api=self.admin_api, host=host)
        else:
            server = self.boot(api=api, hints={"acaas:capability:slot": host})
        self.assertEqual(host, self.host_of(server))
        return server

    def _last_migration(self, server_id, status, deadline=30.0):
        """The newest migration record once nova has marked it ``status``
        (nova finishes the record a moment after the server moved)."""
        end = time.monotonic() + deadline
        while True:
            last = self.nova.migrations(server_id)[0]
            if last.status == status or time.monotonic() > end:
                return last
            time.sleep(0.1)

    def test_servers_on_lists_every_project_with_owner_and_flavor(self):
        a = self._server_on("host1")
        b = self._server_on("host1", api=self.bob)
        self._server_on("host2")
        found = {s.uuid: s for s in self.nova.servers_on("host1")}
        self.assertEqual({a["id"], b["id"]}, set(found))
        mine = found[b["id"]]
        self.assertEqual(("bob", "project-b"), (mine.user_id, mine.project_id))
        self.assertEqual(("ACTIVE", None), (mine.status, mine.task_state))
        self.assertEqual("host1", mine.node)
        self.assertGreater(mine.ram, 0)

    def test_live_migration_to_a_host_our_filter_refuses_stays(self):
        server = self._server_on("host1")
        self.set_trust("host2", "untrusted")
        self.nova.live_migrate(server["id"], "host2")
        with self.assertRaises(errors.MigrationFailed) as ctx:
            self.nova.wait_moved(server["id"], "host1", "live")
        self.assertIn("still on host1", str(ctx.exception))
        self.assertEqual("host1", self.host_of(server))
        last = self._last_migration(server["id"], "error")
        self.assertEqual(("live-migration", "error"), (last.kind, last.status))

    def test_live_migration_to_a_named_host_that_qualifies(self):
        server = self._server_on("host1")
        kind, moved = self.nova.move(server["id"], "host1", host="host2")
        self.assertEqual(
            ("live", "host2", "ACTIVE"), (kind, moved.host, moved.status)
        )
        self.assertEqual("host2", self.host_of(server))

    def test_live_migration_without_a_host_lands_elsewhere(self):
        server = self._server_on("host1")
        kind, moved = self.nova.move(server["id"], "host1")
        self.assertEqual("live", kind)
        self.assertNotEqual("host1", moved.host)
        self.assertEqual(moved.host, self.host_of(server))
        last = self._last_migration(server["id"], "completed")
        self.assertEqual(
            ("live-migration", "completed"), (last.kind, last.status)
        )

    def test_an_untrusted_host_is_fenced_emptied_and_given_back(self):
        servers = [self._server_on("host1") for _ in range(2)]
        self.set_trust("host1", "untrusted")
        self.traits.publish("host1", "untrusted")
        self.nova.fence("host1", "ev-7")
        for found in self.nova.servers_on("host1"):
            _kind, moved = self.nova.move(found.uuid, "host1")
            self.assertNotEqual("host1", moved.host)
        self.assertEqual([], self.nova.servers_on("host1"))
        for server in servers:
            self.assertNotEqual("host1", self.host_of(server))
        # Trusted again: the host is given back; nothing moves back.
        self.set_trust("host1", "trusted")
        self.assertTrue(self.nova.unfence("host1"))
        self.assertEqual([], self.nova.servers_on("host1"))

    def test_refused_live_migration_falls_back_to_cold(self):
        server = self._server_on("host1")
        # nova refuses to live-migrate a stopped server (409).
        self._stop_server(server)
        with self.assertRaises(errors.MigrationRefused):
            self.nova.live_migrate(server["id"], "host2")
        kind, moved = self.nova.move(server["id"], "host1", host="host2")
        self.assertEqual(
            ("cold", "host2", "SHUTOFF"), (kind, moved.host, moved.status)
        )
        last = self._last_migration(server["id"], "confirmed")
        self.assertEqual(("migration", "confirmed"), (last.kind, last.status))

    def test_cold_migration_to_a_host_our_filter_refuses_stays(self):
        server = self._server_on("host1")
        self.set_trust("host2", "untrusted")
        self.dcs_conf.set_override("live_migration", False, group="nova")
        with self.assertRaises(errors.MigrationFailed) as ctx:
            self.nova.move(server["id"], "host1", host="host2")
        self.assertIn("still on host1", str(ctx.exception))
        self.assertEqual("host1", self.host_of(server))
        last = self._last_migration(server["id"], "error")
        self.assertEqual(("migration", "error"), (last.kind, last.status))


class TraitsTestCase(compliance_cloud.ComplianceCloudTestCase):
    def _provider_traits(self, host):
        rp = self._get_provider_uuid_by_host(host)
        return set(self._get_provider_traits(rp)), rp

    def _foreign_write(self, rp, trait):
        """Another writer adds ``trait``, through placement's own API."""
        self.placement.put("/traits/%s" % trait, None, version="1.6")
        body = self.placement.get(
            "/resource_providers/%s/traits" % rp, version="1.6"
        ).body
        body["traits"].append(trait)
        self.placement.put(
            "/resource_providers/%s/traits" % rp, body, version="1.6"
        )

    def test_traits_follow_trust_and_keep_other_writers_traits(self):
        _before, rp = self._provider_traits("host1")
        self._foreign_write(rp, "CUSTOM_OTHER_TEAM")
        self.traits.publish("host1", "trusted", ["gold"], "uk-a", "UK")
        got, _ = self._provider_traits("host1")
        expected = tn.desired_traits("trusted", ["gold"], "uk-a", "UK")
        self.assertTrue(expected <= got)
        self.assertIn("CUSTOM_ACAAS_DOMAIN_UK_A", got)
        self.assertIn("CUSTOM_OTHER_TEAM", got)
        # A changed white-list set replaces ours only.
        self.traits.publish("host1", "trusted", ["silver"], "uk-a", "UK")
        got, _ = self._provider_traits("host1")
        self.assertIn("CUSTOM_ACAAS_WL_SILVER", got)
        self.assertNotIn("CUSTOM_ACAAS_WL_GOLD", got)
        # Trust lost: every trait of ours goes, theirs and nova's stay.
        self.traits.publish("host1", "untrusted", ["gold"], "uk-a", "UK")
        got, _ = self._provider_traits("host1")
        self.assertEqual(set(), {t for t in got if tn.owned(t)})
        self.assertIn("CUSTOM_OTHER_TEAM", got)
        self.assertIn("COMPUTE_NODE", got)

    def test_provider_lookup_and_refusal_of_foreign_traits(self):
        _traits, rp = self._provider_traits("host3")
        self.assertEqual(rp, self.traits.provider_of("host3"))
        self.assertEqual(rp, self.traits.provider_of(rp))
        with self.assertRaises(errors.ProviderNotFound):
            self.traits.provider_of("no-such-node")
        with self.assertRaises(errors.ClientError):
            self.traits.sync(rp, {"CUSTOM_OTHER_TEAM"})

    def test_a_trait_deleted_behind_our_back_is_created_again(self):
        self.traits.publish("host3", "trusted", ["gold"], "uk-b", "UK")
        self.traits.publish("host3", "untrusted")
        # Unused now, so an operator may delete it from placement.
        resp = self.placement.delete(
            "/traits/CUSTOM_ACAAS_WL_GOLD", version="1.6"
        )
        self.assertEqual(204, resp.status)
        self.traits.publish("host3", "trusted", ["gold"], "uk-b", "UK")
        got, _ = self._provider_traits("host3")
        self.assertIn("CUSTOM_ACAAS_WL_GOLD", got)

    def test_a_concurrent_write_is_retried(self):
        _traits, rp = self._provider_traits("host2")
        real_read = self.traits.traits_of
        reads = []

        def read_then_race(rp_uuid):
            result = real_read(rp_uuid)
            reads.append(result[1])
            if len(reads) == 1:
                # A real second writer between our read and our write.
                self._foreign_write(rp_uuid, "CUSTOM_RACER")
            return result

        self.useFixture(
            fixtures.MonkeyPatch(
                "dc_agents.compliance.traits.PlacementTraits.traits_of",
                lambda _self, rp_uuid: read_then_race(rp_uuid),
            )
        )
        self.traits.sync(rp, {tn.TRUSTED})
        self.assertEqual(2, len(reads))
        self.assertGreater(reads[1], reads[0])
        got, _ = self._provider_traits("host2")
        self.assertTrue({tn.TRUSTED, "CUSTOM_RACER"} <= got)

    def test_a_provider_that_keeps_changing_gives_up_after_the_retries(self):
        _traits, rp = self._provider_traits("host2")
        real_read = self.traits.traits_of
        count = []

        def read_then_race(rp_uuid):
            result = real_read(rp_uuid)
            count.append(1)
            self._foreign_write(rp_uuid, "CUSTOM_RACER_%d" % len(count))
            return result

        self.useFixture(
            fixtures.MonkeyPatch(
                "dc_agents.compliance.traits.PlacementTraits.traits_of",
                lambda _self, rp_uuid: read_then_race(rp_uuid),
            )
        )
        with self.assertRaises(errors.GenerationConflict):
            self.traits.sync(rp, {tn.TRUSTED})
        self.assertEqual(5, len(count))

    def test_a_flavor_requiring_trust_lands_only_where_the_trait_is(self):
        self.traits.publish("host4", "trusted", ["gold"], "fr-a", "FR")
        flavor = self.flavor_with({"trait:CUSTOM_ACAAS_TRUSTED": "required"})
        for _ in range(2):
            server = self.boot(flavor_id=flavor)
            self.assertEqual("host4", self.host_of(server))
        self.traits.publish("host4", "untrusted")
        server = self.boot(flavor_id=flavor, expected_state="ERROR")
        self.assert_no_valid_host(server)
