"""ACaaSFilter and ACaaSWeigher inside a real, in-process nova."""

from nova.tests.functional.api import client as api_client

from acaas_nova.db import instances as instances_db
from tests.functional import nova_cloud

UK = {"host1", "host2", "host3"}


class PlacementTest(nova_cloud.ACaaSCloudTestCase):
    def test_location(self):
        server = self.boot(hints={"acaas:location": "FR"})
        self.assertEqual("host4", self.host_of(server))
        server = self.boot(hints={"acaas:location": ["UK"]})
        self.assertIn(self.host_of(server), UK)

    def test_distance_prefers_nearest(self):
        # DE has no hosts; FR is 3 away, UK 8: the weigher picks FR.
        hints = {"acaas:location": "DE", "acaas:max_distance": "10"}
        self.assertEqual("host4", self.host_of(self.boot(hints=hints)))
        # A second one still prefers FR over the emptier UK hosts.
        self.assertEqual("host4", self.host_of(self.boot(hints=hints)))
        hints["acaas:max_distance"] = "2"
        self.assert_no_valid_host(
            self.boot(hints=hints, expected_state="ERROR")
        )

    def test_whitelist(self):
        server = self.boot(hints={"acaas:whitelist": "silver"})
        self.assertEqual("host2", self.host_of(server))
        server = self.boot(
            hints={"acaas:whitelist": "platinum"}, expected_state="ERROR"
        )
        self.assert_no_valid_host(server)

    def test_flavor_capability(self):
        flavor = self.flavor_with({"acaas:capability:gpu": "yes"})
        server = self.boot(flavor_id=flavor)
        self.assertEqual("host2", self.host_of(server))

    def test_emergency_only_when_allowed(self):
        server = self.boot(
            hints={"acaas:location": "US"}, expected_state="ERROR"
        )
        self.assert_no_valid_host(server)
        hints = {"acaas:location": "US", "acaas:allow_emergency": "true"}
        self.assertEqual("host5", self.host_of(self.boot(hints=hints)))
        # Without a location request, local domains are used, never em-us.
        for _ in range(4):
            server = self.boot(hints={"acaas:whitelist": "gold"})
            self.assertNotEqual("host5", self.host_of(server))
        # A flavor forbidding emergency domains cannot be overridden.
        flavor = self.flavor_with({"acaas:allow_emergency": "false"})
        server = self.boot(
            hints=hints, flavor_id=flavor, expected_state="ERROR"
        )
        self.assert_no_valid_host(server)

    def test_untrusted_or_stale_host_gets_nothing_new(self):
        hints = {"acaas:location": "FR"}
        self.set_trust("host4", "untrusted")
        self.assert_no_valid_host(
            self.boot(hints=hints, expected_state="ERROR")
        )
        self.set_trust("host4", "trusted", age=10_000)
        self.assert_no_valid_host(
            self.boot(hints=hints, expected_state="ERROR")
        )
        self.set_trust("host4", "trusted")
        self.assertEqual("host4", self.host_of(self.boot(hints=hints)))

    def test_host_without_record_gets_nothing(self):
        self._start_compute("host6")
        for _ in range(6):
            server = self.boot()
            self.assertNotEqual("host6", self.host_of(server))

    def test_invalid_hint_fails_with_no_valid_host(self):
        server = self.boot(
            hints={"acaas:colour": "red"}, expected_state="ERROR"
        )
        self.assert_no_valid_host(server)
        server = self.boot(
            hints={"acaas:requirement": "no-such-spec"},
            expected_state="ERROR",
        )
        self.assert_no_valid_host(server)

    def test_invalid_flavor_extra_spec_refused_by_api(self):
        flavor = self._create_flavor(memory_mb=512, vcpu=1, disk=1)
        for key, value in (
            ("acaas:colour", "red"),
            ("acaas:max_distance", "-3"),
            ("acaas:isolation", "private"),
            ("acaas:requirement", "rs1"),
        ):
            exc = self.assertRaises(
                api_client.OpenStackApiException,
                self.admin_api.post_extra_spec,
                flavor,
                {"extra_specs": {key: value}},
            )
            self.assertEqual(400, exc.response.status_code)
        self.assertEqual({}, self.admin_api.get_extra_specs(flavor))


class IsolationTest(nova_cloud.ACaaSCloudTestCase):
    def test_symmetric_user_isolation(self):
        # Alice excludes Bob; her server lands on host2 (silver).
        a1 = self.boot(
            self.alice,
            hints={"acaas:whitelist": "silver", "acaas:exclude_users": "bob"},
        )
        self.assertEqual("host2", self.host_of(a1))
        # Bob asked for nothing, yet his server cannot join Alice's host.
        b1 = self.boot(
            self.bob,
            hints={"acaas:whitelist": "silver"},
            expected_state="ERROR",
        )
        self.assert_no_valid_host(b1)
        # Bob's servers elsewhere are fine, and never on host2.
        for _ in range(3):
            b = self.boot(self.bob, hints={"acaas:location": "UK"})
            self.assertIn(self.host_of(b), UK - {"host2"})
        # Carol (Alice's project, not excluded) may share host2.
        c1 = self.boot(self.carol, hints={"acaas:whitelist": "silver"})
        self.assertEqual("host2", self.host_of(c1))
        self.flush_records()
        record = instances_db.instance_trust_get(self.ctx, a1["id"])
        self.assertEqual(("bob",), record.exclude_users)

    def test_isolation_from_instances_older_than_the_plugin(self):
        # Bob's server exists before acaas-nova is enabled: no record.
        self.restart_scheduler(acaas_enabled=False)
        b0 = self.boot(self.bob)
        bobs_host = self.host_of(b0)
        self.flush_records()
        self.assertIsNone(instances_db.instance_trust_get(self.ctx, b0["id"]))
        self.restart_scheduler(acaas_enabled=True)
        hints = {
            "acaas:capability:slot": bobs_host,
            "acaas:allow_emergency": "true",
            "acaas:exclude_users": "bob",
        }
        server = self.boot(self.alice, hints=hints, expected_state="ERROR")
        self.assert_no_valid_host(server)
        hints["acaas:exclude_users"] = "dave"
        self.assertEqual(bobs_host, self.host_of(self.boot(hints=hints)))

    def test_exclusive(self):
        hints = {"acaas:location": "FR", "acaas:isolation": "exclusive"}
        a1 = self.boot(self.alice, hints=hints)
        self.assertEqual("host4", self.host_of(a1))
        # Another project cannot join the exclusive host ...
        b1 = self.boot(
            self.bob, hints={"acaas:location": "FR"}, expected_state="ERROR"
        )
        self.assert_no_valid_host(b1)
        # ... the same project can.
        c1 = self.boot(self.carol, hints={"acaas:location": "FR"})
        self.assertEqual("host4", self.host_of(c1))
        # And an exclusive request avoids hosts with other projects.
        b2 = self.boot(self.bob, hints={"acaas:whitelist": "silver"})
        self.assertEqual("host2", self.host_of(b2))
        a2 = self.boot(
            self.alice,
            hints={
                "acaas:whitelist": "silver",
                "acaas:isolation": "exclusive",
            },
            expected_state="ERROR",
        )
        self.assert_no_valid_host(a2)


class MoveTest(nova_cloud.ACaaSCloudTestCase):
    def test_cold_migration_stays_within_requirements(self):
        # Alone in FR: migration has nowhere to go and the server stays.
        server = self.boot(hints={"acaas:location": "FR"})
        self.assertEqual("host4", self.host_of(server))
        self.api.post_server_action(server["id"], {"migrate": None})
        self._wait_for_migration_status(server, ["error"])
        server = self._wait_for_state_change(server, "ACTIVE")
        self.assertEqual("host4", self.host_of(server))

    def test_cold_migration_prefers_backup_domain(self):
        # On host3 (uk-b); its backups are uk-a (1) then fr-a (2).
        server = self.boot(
            self.admin_api,
            hints={"acaas:location": "UK", "acaas:max_distance": "5"},
            host="host3",
        )
        self.assertEqual("host3", self.host_of(server))
        server = self._migrate_server(server)
        self.assertIn(self.host_of(server), {"host1", "host2"})
        self._confirm_resize(server)


class NovaBehaviourTest(nova_cloud.ACaaSCloudTestCase):
    """Every host trusted, no requirements: nova decides as without us."""

    def _placements(self, count):
        servers = [self.boot(self.bob) for _ in range(count)]
        hosts = [self.host_of(s) for s in servers]
        for server in servers:
            self._delete_server(server)
        return hosts

    def test_same_placement_as_plain_nova(self):
        # host5 is in an emergency domain, which a request without
        # requirements never uses; compare on the four local hosts.
        service = self.admin_api.get_services(
            host="host5", binary="nova-compute"
        )[0]
        self.admin_api.put_service(service["id"], {"status": "disabled"})
        with_acaas = self._placements(8)
        self.restart_scheduler(acaas_enabled=False)
        without = self._placements(8)
        self.assertEqual(without, with_acaas)
        self.assertEqual(4, len(set(without)))


class RebuildTest(nova_cloud.ACaaSCloudTestCase):
    def test_rebuild_with_new_image_needs_a_trusted_host(self):
        server = self.boot(hints={"acaas:location": "FR"})
        old_image = server["image"]["id"]
        new_image = self._other_image(old_image)
        self.set_trust("host4", "untrusted")
        self.api.post_server_action(
            server["id"], {"rebuild": {"imageRef": new_image}}
        )
        # nova refuses it (NoValidHost), rolls the image back and flags the
        # instance ERROR; it stays on host4 with its old image.
        server = self._wait_for_state_change(server, "ERROR")
        self.assertEqual(old_image, server["image"]["id"])
        self.assertEqual("host4", self.host_of(server))
        # Trusted again (and the state reset): the same rebuild goes through.
        self.set_trust("host4", "trusted")
        self.admin_api.post_server_action(
            server["id"], {"os-resetState": {"state": "active"}}
        )
        server = self._wait_for_state_change(server, "ACTIVE")
        server = self._rebuild_server(server, new_image)
        self.assertEqual(new_image, server["image"]["id"])
        self.assertEqual("host4", self.host_of(server))

    def _other_image(self, image_id):
        with_images = self.api.microversion
        self.api.microversion = "2.35"
        try:
            images = [i["id"] for i in self.api.get_images()]
        finally:
            self.api.microversion = with_images
        return next(i for i in images if i != image_id)
