"""nova's versioned notifications, through RabbitMQ, to DC-S's listener.

Real parts: nova's in-process cloud (API, conductor, scheduler with our
filter, fake-driver computes, placement) publishing its versioned
notifications with a real oslo.messaging notifier on RabbitMQ (what nova
does with ``notification_format = versioned``; the test swaps nova's
capturing fixture for it), our listener in its pool on a topic of this
test's own, and our database.
"""

import time
import uuid

import fixtures
import nova.rpc
import oslo_messaging
from oslo_config import cfg

from acaas_nova import conf as acaas_conf
from acaas_nova.db import changes as changes_db
from acaas_nova.db import instances as instances_db
from acaas_nova.db import records
from dc_agents.compliance import notifications
from dc_agents.compliance import nova_cloud
from tests.functional import compliance_cloud
from tests.functional.daemons import RABBIT_URL
from tests.functional.daemons import require_rabbit

DEADLINE = 30.0


class NotificationsTestCase(compliance_cloud.ComplianceCloudTestCase):
    def setUp(self):
        require_rabbit()
        super().setUp()
        self.topic = "acaas-test-notifications-%s" % uuid.uuid4().hex[:8]
        path = self.useFixture(fixtures.TempDir()).join("dcs.conf")
        with open(path, "w") as f:
            f.write("[DEFAULT]\ntransport_url = %s\n" % RABBIT_URL)
        # DC-S's configuration, as a worker reads it from its file.
        self.dcs_conf = cfg.ConfigOpts()
        acaas_conf.register_opts(self.dcs_conf)
        acaas_conf.register_client_opts(self.dcs_conf)
        self.dcs_conf(
            ["--config-file", path], project="acaas", default_config_files=[]
        )
        transport_conf = cfg.ConfigOpts()
        transport_conf(["--config-file", path], default_config_files=[])
        self.dcs_conf.set_override(
            "notification_topics", [self.topic], group="compliance"
        )
        self.dcs_conf.set_override(
            "notification_pool", "acaas-test-" + self.topic, group="compliance"
        )
        self.listener = notifications.listener(
            self.dcs_conf,
            self.ctx,
            nova_cloud.NovaCloud(self.nova, self.traits),
        )
        self.marker_before = changes_db.last(self.ctx)
        self.listener.start()  # declares the pool's queue before we go on
        self.addCleanup(self._stop_listener)
        # nova's notifier, as with notification_format = versioned.
        self.nova_transport = oslo_messaging.get_notification_transport(
            transport_conf
        )
        self.addCleanup(self.nova_transport.cleanup)
        real = oslo_messaging.Notifier(
            self.nova_transport,
            serializer=nova.rpc.RequestContextSerializer(
                nova.rpc.JsonPayloadSerializer()
            ),
            driver="messagingv2",
            topics=[self.topic],
        )
        self.stub_out("nova.rpc.NOTIFIER", real)

    def _stop_listener(self):
        self.listener.stop()
        self.listener.wait()

    def _wait(self, predicate, what):
        deadline = time.monotonic() + DEADLINE
        while not predicate():
            if time.monotonic() > deadline:
                self.fail("%s not seen within %ss" % (what, DEADLINE))
            time.sleep(0.1)

    def _record(self, server_id):
        return instances_db.instance_trust_get(self.ctx, server_id)

    def _request(self):
        """(token, reason, when) of a sweep request made since setUp."""
        marker = changes_db.last(self.ctx)
        return marker if marker != self.marker_before else None

    def test_deleted_server_loses_its_trust_record(self):
        server = self.boot()
        self.flush_records()
        self.assertIsNotNone(self._record(server["id"]))
        self.alice.delete_server(server["id"])
        self._wait(
            lambda: self._record(server["id"]) is None,
            "the trust record of the deleted server removed",
        )
        # A server our filter placed on a trusted host asks for nothing.
        self.assertIsNone(self._request())

    def test_server_on_untrusted_host_requests_a_sweep(self):
        server = self.boot(api=self.admin_api, host="host3")
        self.flush_records()
        self.assertIsNone(self._request())  # host3 was trusted then
        self.set_trust("host3", records.TRUST_UNTRUSTED)
        # An evacuation-like arrival: nova rebuilds it in place (the
        # notification says where the server is now).
        self.admin_api.post_server_action(
            server["id"],
            {"rebuild": {"imageRef": server["image"]["id"]}},
        )
        self._wait(self._request, "a sweep request")
        _token, reason, _when = self._request()
        self.assertIn(server["id"], reason)
        self.assertIn("host3, which is not trusted", reason)

    def test_server_on_a_host_we_do_not_know_requests_a_sweep(self):
        # A forced host skips every scheduler filter; this one has no
        # ACaaS record at all (added to nova behind our back).
        self._start_compute("host9")
        body = self._build_server(networks="none", az="nova:host9")
        server = self.admin_api.post_server({"server": body})
        server = self._wait_for_state_change(server, "ACTIVE")
        self._wait(self._request, "a sweep request")
        reason = self._request()[1]
        self.assertIn("host9, which is not trusted", reason)

    def test_server_on_a_trusted_host_requests_nothing(self):
        body = self._build_server(networks="none", az="nova:host4")
        server = self.admin_api.post_server({"server": body})
        self._wait_for_state_change(server, "ACTIVE")
        # The delete notification of another server comes after its
        # create notification on the same queue: once it is handled, so
        # was the create.
        other = self.boot()
        self.flush_records()
        self.alice.delete_server(other["id"])
        self._wait(
            lambda: self._record(other["id"]) is None,
            "the later notification handled",
        )
        self.assertIsNone(self._request())

    def test_malformed_notifications_are_dropped_and_the_next_one_counts(
        self,
    ):
        server = self.boot()
        self.flush_records()
        # Anyone on the bus can publish there; nothing they send counts
        # for more than what it says, and a malformed one counts for
        # nothing.
        notifier = oslo_messaging.Notifier(
            self.nova_transport,
            publisher_id="forged:host1",
            driver="messagingv2",
            topics=[self.topic],
        )
        for payload in (
            None,
            "text",
            {"nova_object.data": {"uuid": "' OR 1=1 --"}},
            {"nova_object.data": {"uuid": server["id"], "host": "x\ny"}},
        ):
            notifier.info({}, "instance.delete.end", payload)
            notifier.info({}, "instance.create.end", payload)
        # A well-formed but forged delete of a running server: nova still
        # reports it, so its record (its isolation) stays.
        other = self.boot(hints={"acaas:exclude_users": "bob"})
        self.flush_records()
        notifier.info(
            {},
            "instance.delete.end",
            {"nova_object.data": {"uuid": other["id"]}},
        )
        self.alice.delete_server(server["id"])
        self._wait(
            lambda: self._record(server["id"]) is None,
            "the trust record removed after the malformed notifications",
        )
        self.assertIsNotNone(self._record(other["id"]))
