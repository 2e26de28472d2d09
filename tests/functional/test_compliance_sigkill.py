"""DC-S SIGKILLed in the middle of a compliance migration, then restarted.

Real parts: nova's in-process cloud (API, conductor, scheduler with our
filter and weigher, fake-driver computes, placement) served over HTTP on
127.0.0.1 (tests/functional/http_apis.py); ``acaas-dcs`` as a separate
process with compliance enabled, reaching nova and placement with
keystoneauth over those sockets; RabbitMQ; our SQLite database shared by
both.  The fake hypervisor's live migration is held until the test lets
it go, so DC-S dies while nova is migrating the server it asked for.
The action must complete after the restart and nova must have been asked
exactly once.
"""

import pathlib
import signal
import threading
import time
import uuid

import fixtures
from nova.virt import fake as fake_virt

from acaas_nova.db import compliance as compliance_db
from acaas_nova.db import records
from tests.functional import compliance_cloud
from tests.functional import http_apis
from tests.functional.daemons import Cluster
from tests.functional.nova_cloud import CONF

DEADLINE = 60.0


class DCSKilledMidMigrationTestCase(compliance_cloud.ComplianceCloudTestCase):
    def setUp(self):
        super().setUp()
        self.entered = threading.Event()
        self.release = threading.Event()
        original = fake_virt.FakeDriver.live_migration
        test = self

        def held_live_migration(driver, context, instance, *args, **kw):
            test.entered.set()
            test.release.wait(DEADLINE)
            return original(driver, context, instance, *args, **kw)

        self.stub_out(
            "nova.virt.fake.FakeDriver.live_migration", held_live_migration
        )
        self.addCleanup(self.release.set)
        token = uuid.uuid4().hex
        nova = http_apis.serve_nova(self, token)
        placement = http_apis.serve_placement(self)
        base = self.useFixture(fixtures.TempDir()).path  # DC-S's files
        self.cluster = Cluster(
            pathlib.Path(base),
            CONF.acaas_database.connection,
            b"",
            attestation_interval=0.5,
        )
        self.addCleanup(self.cluster.stop_all)
        self.extra = (
            "[compliance]\nenabled = true\nsweep_interval = 1\n"
            "retry_backoff = 0\nmax_untrusted_fraction = 1.0\n"
            "unknown_grace = 0\n"
            "[nova]\nauth_type = admin_token\ntoken = %s\n"
            "endpoint_override = %s\npoll_interval = 0.1\n"
            "migration_timeout = 60\n"
            "[placement]\nauth_type = admin_token\ntoken = %s\n"
            "endpoint_override = %s\npublish_traits = false\n"
            % (token, nova.url, self.placement.fixture.token, placement.url)
        )

    def _wait(self, predicate, what):
        deadline = time.monotonic() + DEADLINE
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                self.fail(
                    "%s not reached within %ss; DC-S log:\n%s"
                    % (what, DEADLINE, self.cluster.log_tail("dcs", 60))
                )
            time.sleep(0.1)

    def _actions(self, state):
        return compliance_db.action_list(
            self.ctx, states=[state], kind="migrate"
        )

    def test_migration_completes_once_across_a_sigkill(self):
        server = self.boot(api=self.admin_api, host="host1")
        self.flush_records()
        # host2 (the same domain, uk-a) is the healthy destination.
        self.set_trust("host1", records.TRUST_UNTRUSTED)
        turned = time.monotonic()
        self.cluster.start_worker("dcs", self.extra)
        self._wait(self.entered.is_set, "nova's live migration started")
        self.assertEqual(1, len(self._actions("running")))
        self.cluster.stop_worker("dcs", signal.SIGKILL)
        self.release.set()  # nova finishes the migration meanwhile
        self._wait(
            lambda: (
                self.host_of(self.admin_api.get_server(server["id"]))
                == "host2"
            ),
            "the server on host2",
        )
        self.cluster.start_worker("dcs", self.extra)
        done = self._wait(
            lambda: self._actions("done"), "the move action done"
        )
        left = time.monotonic() - turned
        self.assertEqual([server["id"]], [a.subject for a in done])
        self.assertEqual([], self._actions("running"))
        migrations = self.nova.migrations(server["id"])
        self.assertEqual(
            [("live-migration", "host1", "host2")],
            [(m.kind, m.source, m.dest) for m in migrations],
        )
        # host1 is fenced by ACaaS, with the event in its reason.
        service = self.admin_api.get_services(
            host="host1", binary="nova-compute"
        )[0]
        self.assertEqual("disabled", service["status"])
        self.assertTrue(service["disabled_reason"].startswith("ACaaS:"))
        print("untrusted -> server off host1 (with a SIGKILL): %.1fs" % left)
