"""The append-only log of attestation and compliance events."""

import datetime

import sqlalchemy as sa

from acaas_nova import exception
from acaas_nova.db import api
from acaas_nova.db import limits
from acaas_nova.db import models
from acaas_nova.db import nodes as nodes_db
from acaas_nova.db import records


@api.translate_errors
@api.context_manager.writer
def event_add(context, subject, event_id, severity, detail):
    """Append an event; returns its id.

    An event is a record of what happened, never refused for its length:
    a subject or detail over its column is cut to fit (a node chooses
    the names and inputs that end up there).
    """
    if severity not in records.SEVERITIES:
        raise exception.Invalid(reason="unknown severity %r" % severity)
    row = models.Event(
        subject=subject[: limits.limit_of(models.Event.subject)],
        event_id=event_id,
        severity=severity,
        detail=_clip_bytes(detail, limits.limit_of(models.Event.detail)),
    )
    context.session.add(row)
    context.session.flush()
    return row.id


def _clip_bytes(text: str, limit: int) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[:limit].decode(errors="ignore")


@api.translate_errors
@api.context_manager.reader
def event_list(context, subject=None, limit=100):
    """Newest first, optionally for one subject."""
    query = sa.select(models.Event).order_by(models.Event.id.desc())
    if subject is not None:
        query = query.where(models.Event.subject == subject)
    return [
        records.Event(
            id=r.id,
            created_at=nodes_db.aware(r.created_at),
            subject=r.subject,
            event_id=r.event_id,
            severity=r.severity,
            detail=r.detail,
        )
        for r in context.session.scalars(query.limit(limit))
    ]


@api.translate_errors
@api.context_manager.writer
def event_purge(context, older_than_days):
    """Delete events older than ``older_than_days``; returns how many."""
    if (
        isinstance(older_than_days, bool)
        or not isinstance(older_than_days, int)
        or older_than_days < 1
    ):
        raise exception.Invalid(
            reason="older-than must be a whole number of days >= 1"
        )
    cutoff = datetime.datetime.now(datetime.UTC).replace(
        tzinfo=None
    ) - datetime.timedelta(days=older_than_days)
    result = context.session.execute(
        sa.delete(models.Event).where(models.Event.created_at < cutoff)
    )
    return result.rowcount
