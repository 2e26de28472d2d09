"""Follow nova's versioned notifications (``[compliance] notifications``).

Every DC-S worker with compliance enabled listens in one oslo.messaging
listener pool (``[compliance] notification_pool``) on nova's versioned
notification topics, so each notification reaches exactly one worker,
whichever it is.  What a notification means is decided by
:mod:`acaas_nova.compliance.notices`; here it is acted on:

* a server that is gone: its trust record is deleted, once nova's API
  confirms it (a notification is not proof: anyone who can publish on the
  topic could otherwise erase a running server's isolation record);
* a server that arrived on a host that is not trusted (or not attested
  recently enough): a sweep is requested through the change marker of
  :mod:`acaas_nova.db.changes`, and the compliance leader runs it at its
  next round
  (:class:`~dc_agents.compliance.loop.ComplianceLoop`), whichever worker
  got the notification.

Notifications are a shortcut, not the source of truth: every sweep
reconciles with nova's API, so a notification that is lost, malformed or
arrives while the database is down only delays a check.  A malformed one
is logged in one line and dropped; nothing is retried from the queue.
"""

import datetime
import logging

import oslo_messaging

from acaas_nova import exception
from acaas_nova.compliance import notices
from acaas_nova.db import attestation as attestation_db
from acaas_nova.db import changes as changes_db
from acaas_nova.db import instances as instances_db
from acaas_nova.db import records

LOG = logging.getLogger(__name__)
HANDLED = oslo_messaging.NotificationResult.HANDLED


class NotificationEndpoint:
    """The listener's endpoint: ``info`` notifications about instances."""

    filter_rule = oslo_messaging.NotificationFilter(event_type=r"^instance\.")

    def __init__(self, conf, context, cloud) -> None:
        self.ctx = context
        #: dc_agents.compliance.cloud.Cloud: nova's view of a server.
        self.cloud = cloud
        self.ttl = datetime.timedelta(seconds=conf.acaas.attestation_ttl)

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        try:
            notice = notices.parse(event_type, payload)
        except exception.Invalid as exc:
            LOG.warning(
                "Notification from %s dropped: %s",
                str(publisher_id)[:100],
                exc.message,
            )
            return HANDLED
        if notice is None:
            return HANDLED
        try:
            self.handle(notice)
        except exception.ACaaSException as exc:
            # The next sweep reconciles with nova's API anyway.
            LOG.error(
                "Notification %s of %s not handled: %s",
                notice.event_type,
                notice.instance_uuid,
                exc,
            )
        return HANDLED

    def handle(self, notice: notices.Notice) -> bool:
        """Act on one notice; True when a sweep was requested."""
        if notice.kind == notices.GONE:
            if self.cloud.server(notice.instance_uuid) is not None:
                LOG.warning(
                    "%s for server %s, which nova still reports: ignored",
                    notice.event_type,
                    notice.instance_uuid,
                )
                return False
            instances_db.instance_trust_delete(self.ctx, notice.instance_uuid)
            LOG.debug("Trust record of %s removed", notice.instance_uuid)
            return False
        trusted = self._host_trusted(notice.host, notice.node)
        if not notices.needs_sweep(notice, trusted):
            return False
        why = "%s: server %s on host %s, which is not trusted" % (
            notice.event_type,
            notice.instance_uuid,
            notice.host,
        )
        changes_db.change_note(self.ctx, why)
        LOG.info("Sweep requested: %s", why)
        return True

    def _host_trusted(self, host: str, node: str | None) -> bool | None:
        """True when the node is trusted and was attested within the TTL;
        None when we have no record of it."""
        try:
            reg = attestation_db.registration_get(self.ctx, host, node)
        except exception.NotFound:
            return None
        if reg.status != records.TRUST_TRUSTED or reg.last_attested_at is None:
            return False
        now = datetime.datetime.now(datetime.UTC)
        attested = reg.last_attested_at
        if attested.tzinfo is None:
            attested = attested.replace(tzinfo=datetime.UTC)
        return now - attested <= self.ttl


def listener(conf, context, cloud):
    """The DC-S worker's notification listener (not started)."""
    transport = oslo_messaging.get_notification_transport(conf)
    targets = [
        oslo_messaging.Target(topic=topic)
        for topic in conf.compliance.notification_topics
    ]
    return oslo_messaging.get_notification_listener(
        transport,
        targets,
        [NotificationEndpoint(conf, context, cloud)],
        executor="threading",
        pool=conf.compliance.notification_pool,
    )
