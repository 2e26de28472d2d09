"""``acaas-manage event``: read and purge the ACaaS event log."""

from acaas_nova import exception
from acaas_nova.cmd import base
from acaas_nova.db import events as events_db

_COLUMNS = [
    ("Id", "id"),
    ("Time", "created_at"),
    ("Subject", "subject"),
    ("Event", "event_id"),
    ("Severity", "severity"),
    ("Detail", "detail"),
]


class EventCommands(base.Commands):
    """The event log: why a node was judged, what compliance did."""

    help = "the event log (list, purge)"

    @classmethod
    def add_actions(cls, actions) -> None:
        p = base.action(actions, cls, "list", "newest events first")
        p.add_argument("--subject", help="only events about this subject")
        p.add_argument("--limit", type=base.integer, default=50, metavar="N")
        p = base.action(
            actions, cls, "purge", "delete events older than a number of days"
        )
        p.add_argument(
            "--older-than",
            type=base.integer,
            metavar="DAYS",
            help="default: [events] retention_days",
        )

    def list(self, args) -> None:
        if args.limit < 1:
            raise exception.Invalid(reason="--limit must be at least 1")
        self.out.rows(
            _COLUMNS,
            events_db.event_list(
                self.context, subject=args.subject, limit=args.limit
            ),
        )

    def purge(self, args) -> None:
        days = args.older_than
        if days is None:
            days = self.conf.events.retention_days
            if days == 0:
                self.out.done(
                    "[events] retention_days is 0: events are kept forever",
                    {"deleted": 0},
                )
                return
        deleted = events_db.event_purge(self.context, days)
        self.out.done(
            "Deleted %d event(s) older than %d day(s)" % (deleted, days),
            {"deleted": deleted, "older_than_days": days},
        )
