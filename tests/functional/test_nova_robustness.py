"""ACaaSFilter inside a real nova: hosts nobody added, hostile hints,
a corrupt row, and isolation while trust records are still queued."""

import sqlalchemy as sa

from acaas_nova.db import api as db_api
from acaas_nova.db import instances as instances_db
from acaas_nova.scheduler import runtime
from tests.functional import nova_cloud

CONF = nova_cloud.CONF
NEW_HOSTS = ("new1", "new2", "new3")


class UnrecordedHostsTest(nova_cloud.ACaaSCloudTestCase):
    """The filter enabled in a cloud whose hosts nobody added (issue 11)."""

    def _create_infrastructure(self):
        """Nothing: acaas-nova has no record of any host."""

    def setUp(self):
        super().setUp()
        for host in nova_cloud.HOSTS:
            service = self.admin_api.get_services(
                host=host, binary="nova-compute"
            )[0]
            self.admin_api.put_service(service["id"], {"status": "disabled"})
        for host in NEW_HOSTS:
            self._start_compute(host)

    def test_servers_land_when_attestation_is_not_required(self):
        self.flags(require_attestation=False, group="acaas")
        placed = set()
        for _ in range(6):
            placed.add(self.host_of(self.boot()))
        self.assertEqual(set(NEW_HOSTS), placed)
        # Isolation still works on such hosts (judged from nova's list):
        # Alice runs on all three, so Bob excluding her finds none.
        server = self.boot(
            self.bob,
            hints={"acaas:exclude_users": "alice"},
            expected_state="ERROR",
        )
        self.assert_no_valid_host(server)
        server = self.boot(self.bob, hints={"acaas:exclude_users": "dave"})
        self.assertIn(self.host_of(server), NEW_HOSTS)

    def test_requests_that_need_what_they_lack_are_refused(self):
        self.flags(require_attestation=False, group="acaas")
        for hints in (
            {"acaas:location": "UK"},
            {"acaas:whitelist": "gold"},
            {"acaas:capability:gpu": "yes"},
        ):
            self.assert_no_valid_host(
                self.boot(hints=hints, expected_state="ERROR")
            )

    def test_fail_closed_when_attestation_is_required(self):
        self.flags(require_attestation=True, group="acaas")
        self.assert_no_valid_host(self.boot(expected_state="ERROR"))


class HostileInputTest(nova_cloud.ACaaSCloudTestCase):
    def test_bad_hints_are_refused_and_the_scheduler_keeps_working(self):
        for hints in (
            {"acaas:colour": "red"},
            {"acaas:location": "x" * 90_000},
            {"acaas:location": "Ünïcødé"},
            {"acaas:location": "UK'; DROP TABLE compute_nodes; --"},
            {"acaas:max_distance": ["1", "2"], "acaas:location": "UK"},
            {"acaas:isolation": ["exclusive", "shared"]},
            {"acaas:max_distance": "٣", "acaas:location": "UK"},
            {"acaas:exclude_users": "bob\nforged"},
        ):
            server = self.boot(hints=hints, expected_state="ERROR")
            self.assert_no_valid_host(server)
        # Nothing broke: the next valid request is placed as usual.
        server = self.boot(hints={"acaas:location": "FR"})
        self.assertEqual("host4", self.host_of(server))

    def test_corrupt_row_rejects_only_that_node(self):
        with db_api.get_engine().begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE compute_nodes SET whitelists = '{not json' "
                    "WHERE host = 'host2'"
                )
            )
        # host2 was the only silver host.
        self.assert_no_valid_host(
            self.boot(
                hints={"acaas:whitelist": "silver"}, expected_state="ERROR"
            )
        )
        for _ in range(4):
            server = self.boot(hints={"acaas:location": "UK"})
            self.assertIn(self.host_of(server), {"host1", "host3"})


class QueuedIsolationTest(nova_cloud.ACaaSCloudTestCase):
    def test_exclusion_holds_before_its_record_reaches_the_database(self):
        # The writer waits an hour: every record stays queued.
        self.flags(record_flush_interval=3600, group="acaas")
        runtime.reset()
        a1 = self.boot(
            self.alice,
            hints={"acaas:whitelist": "silver", "acaas:exclude_users": "bob"},
        )
        self.assertEqual("host2", self.host_of(a1))
        self.assertIsNone(instances_db.instance_trust_get(self.ctx, a1["id"]))
        # Bob's very next boot cannot join Alice's host...
        b1 = self.boot(
            self.bob,
            hints={"acaas:whitelist": "silver"},
            expected_state="ERROR",
        )
        self.assert_no_valid_host(b1)
        # ... and Bob excluding Alice keeps him off it just as well.
        b2 = self.boot(
            self.bob,
            hints={"acaas:location": "UK", "acaas:exclude_users": "alice"},
        )
        self.assertIn(self.host_of(b2), {"host1", "host3"})
        self.flush_records()
        record = instances_db.instance_trust_get(self.ctx, a1["id"])
        self.assertEqual(("bob",), record.exclude_users)
