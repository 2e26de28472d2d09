"""What one of nova's versioned notifications means for compliance.

nova publishes versioned notifications (``[notifications]
notification_format = versioned`` or ``both``) on the broker.  Those that
tell where a server is, or that it is gone, keep the compliance manager's
view current between two sweeps:

* a server that **arrived** on a host (created, migrated, evacuated,
  rebuilt, unshelved, a migration rolled back) must be re-checked at once
  when that host is not trusted (or acaas-nova has no record of the host).
  An arrival on a trusted host waits for the periodic sweep, even when the
  server has no trust record yet: the filter writes its records behind the
  request, so a missing record right after a boot says nothing, and a
  server that bypassed the filter (a forced host) is reconciled by the
  sweep like one created before acaas-nova was enabled;
* a server that is **gone** (deleted) no longer needs its trust record
  (the listener asks nova's API before it believes that: anyone on the bus
  can publish a notification).  A soft-deleted or shelved server keeps its
  record: it may come back.

Everything else is ignored.  This module only reads the notification; the
listener (dc_agents.compliance.notifications) acts on it.  The payload is
an ``InstanceActionPayload`` (or a subclass) serialised as nova's
versioned objects are: ``{"nova_object.name": ..., "nova_object.data":
{"uuid": ..., "host": ..., "node": ...}}``.
"""

import dataclasses
import re
import typing

from acaas_nova import exception

ARRIVED = "arrived"
GONE = "gone"

#: event_type -> what it tells.
EVENTS = {
    "instance.create.end": ARRIVED,
    "instance.live_migration_post_dest.end": ARRIVED,
    "instance.live_migration_rollback.end": ARRIVED,
    "instance.resize_finish.end": ARRIVED,
    "instance.resize_revert.end": ARRIVED,
    "instance.evacuate": ARRIVED,
    "instance.rebuild.end": ARRIVED,
    "instance.unshelve.end": ARRIVED,
    "instance.delete.end": GONE,
}

_UUID = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
MAX_HOST = 255


@dataclasses.dataclass(frozen=True)
class Notice:
    kind: str  # ARRIVED or GONE
    event_type: str
    instance_uuid: str
    #: The server's host and node after the event (None when gone).
    host: str | None
    node: str | None


def _field(data: typing.Mapping, name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_HOST:
        raise exception.Invalid(
            reason="notification field %s is not a host name" % name
        )
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise exception.Invalid(
            reason="notification field %s has control characters" % name
        )
    return value


def parse(event_type: typing.Any, payload: typing.Any) -> Notice | None:
    """The notice of one notification; None for events we do not follow.

    Raises :class:`acaas_nova.exception.Invalid` (one line, naming the
    field) for a followed event whose payload is malformed.
    """
    if not isinstance(event_type, str) or event_type not in EVENTS:
        return None
    if not isinstance(payload, dict):
        raise exception.Invalid(
            reason="%s payload is not an object" % event_type
        )
    data = payload.get("nova_object.data")
    if not isinstance(data, dict):
        raise exception.Invalid(
            reason="%s payload has no nova_object.data" % event_type
        )
    uuid = data.get("uuid")
    if not isinstance(uuid, str) or not _UUID.match(uuid.lower()):
        raise exception.Invalid(
            reason="%s payload has no valid instance uuid" % event_type
        )
    kind = EVENTS[event_type]
    host = node = None
    if kind == ARRIVED:
        host, node = _field(data, "host"), _field(data, "node")
    return Notice(kind, event_type, uuid.lower(), host, node)


def needs_sweep(notice: Notice, host_trusted: bool | None) -> bool:
    """Whether an arrival must be re-checked now: its host is not trusted
    (``host_trusted`` False, or None when acaas-nova has no record of the
    host)."""
    if notice.kind != ARRIVED or notice.host is None:
        return False
    return host_trusted is not True
