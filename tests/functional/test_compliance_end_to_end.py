"""The compliance manager against nova's in-process cloud, end to end.

Real parts: nova's API, conductor, scheduler (with our filter and weigher)
and fake-driver computes, placement, our database; DC-S's clients reach
nova and placement over HTTP (tests/functional/compliance_cloud.py).  The
cloud: host1, host2 in uk-a; host3 in uk-b (backups uk-a, then fr-a);
host4 in fr-a; host5 in em-us (emergency).
"""

import contextlib
import io
import json
import os
import time

import fixtures

from acaas_nova.cmd import compliance as compliance_cmd
from acaas_nova.cmd import manage
from acaas_nova.db import compliance as compliance_db
from acaas_nova.db import domains as domains_db
from dc_agents.compliance import manager as manager_mod
from dc_agents.compliance import nova_cloud
from tests.functional import compliance_cloud
from tests.functional import nova_cloud as nc

DEADLINE = 90.0


class ComplianceEndToEndTestCase(compliance_cloud.ComplianceCloudTestCase):
    def setUp(self):
        super().setUp()
        self.dcs_conf.set_override("retry_backoff", 0, group="compliance")
        self.dcs_conf.set_override(
            "max_untrusted_fraction", 0.5, group="compliance"
        )
        self.cloud = nova_cloud.NovaCloud(self.nova, self.traits)
        self.manager = manager_mod.ComplianceManager(
            self.dcs_conf, self.cloud, self.ctx
        )

    def _pinned(self, host):
        server = self.boot(api=self.admin_api, host=host)
        self.assertEqual(host, self.host_of(server))
        return server

    def _sweep(self):
        # The filter writes its records behind the request; DC-S would
        # read them a moment later.
        self.flush_records()
        return self.manager.sweep()

    def _sweep_until(self, done, what):
        deadline = time.monotonic() + DEADLINE
        while True:
            self._sweep()
            if done():
                return
            if time.monotonic() > deadline:
                self.fail(
                    "%s not reached within %ds; actions: %s"
                    % (what, DEADLINE, compliance_db.action_list(self.ctx))
                )
            time.sleep(0.2)

    def _emptied(self, host):
        """The host has no server left and every move is settled."""

        def check():
            open_moves = compliance_db.action_list(
                self.ctx, states=["pending", "running"], kind="migrate"
            )
            return not open_moves and not self.nova.servers_on(host)

        return check

    def _service(self, host):
        return self.nova.service_state(host)

    def test_untrusted_host_is_fenced_emptied_in_its_domain_and_given_back(
        self,
    ):
        servers = [self._pinned("host1") for _ in range(2)]
        # One server from before acaas-nova was enabled: no record of it.
        self.restart_scheduler(acaas_enabled=False)
        servers.append(self._pinned("host1"))
        self.restart_scheduler(acaas_enabled=True)
        start = time.monotonic()
        self.set_trust("host1", "untrusted")
        self._sweep_until(self._emptied("host1"), "host1 emptied")
        elapsed = time.monotonic() - start
        print("untrusted -> last server off host1: %.1f s" % elapsed)
        for server in servers:
            self.assertEqual("host2", self.host_of(server))
        state = self._service("host1")
        self.assertEqual("disabled", state.status)
        self.assertTrue(state.disabled_reason.startswith("ACaaS: untrusted"))
        moves = compliance_db.action_list(self.ctx, kind="migrate")
        self.assertEqual({"done"}, {a.state for a in moves})
        self.assertEqual({"same-domain"}, {a.tier for a in moves})
        # Trusted again: the service comes back; nothing moves back.
        self.set_trust("host1", "trusted")
        self._sweep()
        self.assertEqual("enabled", self._service("host1").status)
        self.assertEqual([], self.nova.servers_on("host1"))

    def test_a_domain_with_no_other_host_overflows_to_its_backup(self):
        server = self._pinned("host3")
        self.set_trust("host3", "untrusted")
        self._sweep_until(self._emptied("host3"), "host3 emptied")
        self.assertIn(self.host_of(server), ("host1", "host2"))
        (move,) = compliance_db.action_list(self.ctx, kind="migrate")
        self.assertEqual(("done", "backup"), (move.state, move.tier))

    def test_backups_by_priority_and_isolation_holds_through_the_move(self):
        # bob runs on both hosts of uk-a (uk-b's first backup domain).
        for host in ("host1", "host2"):
            mine = self.boot(
                api=self.bob, hints={"acaas:capability:slot": host}
            )
            self.assertEqual(host, self.host_of(mine))
        server = self.boot(
            api=self.admin_api,
            host="host3",
            hints={"acaas:exclude_users": "bob"},
        )
        self.assertEqual("host3", self.host_of(server))
        self.set_trust("host3", "untrusted")
        self._sweep_until(self._emptied("host3"), "host3 emptied")
        # Not next to bob in uk-a: on to fr-a, the second backup domain.
        self.assertEqual("host4", self.host_of(server))
        (move,) = compliance_db.action_list(self.ctx, kind="migrate")
        self.assertEqual(("done", "backup"), (move.state, move.tier))
        self.assertEqual("host4", move.destination_host)

    def test_an_emergency_domain_only_for_servers_that_allow_it(self):
        # fr-a has one host; its only backup is em-us, an emergency domain.
        domains_db.backup_add(self.ctx, "fr-a", "em-us", 1)
        allows = self.boot(
            api=self.admin_api,
            host="host4",
            hints={"acaas:allow_emergency": "true"},
        )
        refuses = self._pinned("host4")
        self.set_trust("host4", "untrusted")
        self._sweep_until(
            lambda: (
                self.host_of(allows) == "host5"
                and compliance_db.action_list(self.ctx, states=["stuck"])
            ),
            "the emergency move and the stuck server",
        )
        self.assertEqual("host4", self.host_of(refuses))
        (stuck,) = compliance_db.action_list(self.ctx, states=["stuck"])
        self.assertEqual(refuses["id"], stuck.subject)
        moved = compliance_db.action_list(self.ctx, states=["done"])
        self.assertEqual(
            [(allows["id"], "emergency")],
            [(a.subject, a.tier) for a in moved if a.kind == "migrate"],
        )
        # Sweeps go on: the stuck server is reported once, not per sweep.
        for _ in range(3):
            self._sweep()
        self.assertEqual(
            [refuses["id"]],
            [
                a.subject
                for a in compliance_db.action_list(self.ctx, states=["stuck"])
            ],
        )

    def test_a_server_nothing_qualifies_for_stays_and_is_reported(self):
        # Only host2 satisfies "silver"; uk-a has no backup domain.
        server = self.boot(api=self.alice, hints={"acaas:whitelist": "silver"})
        self.assertEqual("host2", self.host_of(server))
        self.set_trust("host2", "untrusted")
        self._sweep()
        self.assertEqual("host2", self.host_of(server))
        (stuck,) = compliance_db.action_list(self.ctx, states=["stuck"])
        self.assertEqual(server["id"], stuck.subject)
        self.assertIn("white-list silver", stuck.error)
        self.assertEqual("disabled", self._service("host2").status)

    def test_breaker_fences_many_hosts_and_moves_nothing_until_resume(self):
        server = self._pinned("host1")
        for host in ("host1", "host2", "host3"):  # 60% at once
            self.set_trust(host, "untrusted")
        report = self._sweep()
        self.assertTrue(report.breaker_open)
        self.assertEqual(["host1", "host2", "host3"], report.fenced)
        self.assertEqual("host1", self.host_of(server))
        self.assertEqual(
            [], compliance_db.action_list(self.ctx, kind="migrate")
        )
        compliance_db.flag_set(
            self.ctx, compliance_db.BREAKER, compliance_db.BREAKER_CLOSED
        )
        # uk-a is all untrusted and has no backups: the server is stuck,
        # reported, and stays (nothing is moved to a failing host).
        self._sweep()
        self.assertEqual("host1", self.host_of(server))
        stuck = compliance_db.action_list(self.ctx, states=["stuck"])
        self.assertEqual([server["id"]], [a.subject for a in stuck])

    def test_maintenance_drains_to_the_backup_and_new_servers_avoid_it(self):
        server = self._pinned("host3")
        compliance_db.maintenance_set(self.ctx, "uk-b", True)
        self._sweep_until(self._emptied("host3"), "uk-b drained")
        self.assertIn(self.host_of(server), ("host1", "host2"))
        # A UK server may go to uk-a but not to uk-b while it is drained.
        for _ in range(3):
            new = self.boot(api=self.alice, hints={"acaas:location": "UK"})
            self.assertNotEqual("host3", self.host_of(new))
        # The host was not fenced: it is trusted, only its domain is away.
        self.assertEqual("enabled", self._service("host3").status)

    def test_sweep_dry_run_from_the_cli_prints_the_plan_and_changes_nothing(
        self,
    ):
        server = self._pinned("host1")
        self.set_trust("host1", "untrusted")
        self.flush_records()
        path = os.path.join(self.useFixture(fixtures.TempDir()).path, "a.conf")
        with open(path, "w") as f:
            f.write(
                "[acaas_database]\nconnection = %s\n"
                % nc.CONF.acaas_database.connection
            )
        self.useFixture(
            fixtures.MockPatchObject(
                compliance_cmd.ComplianceCommands,
                "cloud_factory",
                staticmethod(lambda conf: self.cloud),
            )
        )
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = manage.main(
                [
                    "--config-file",
                    path,
                    "--format",
                    "json",
                    "compliance",
                    "sweep",
                    "--dry-run",
                ]
            )
        self.assertEqual(0, rc, out.getvalue())
        plan = json.loads(out.getvalue())
        self.assertTrue(plan["dry_run"])
        self.assertEqual(
            [(server["id"], "host1", "host2")],
            [(r["instance"], r["from"], r["to"]) for r in plan["plan"]],
        )
        self.assertEqual("host1", self.host_of(server))
        self.assertEqual("enabled", self._service("host1").status)
        self.assertEqual([], compliance_db.action_list(self.ctx))
