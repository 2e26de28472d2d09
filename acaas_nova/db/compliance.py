"""Durable compliance state: actions, the breaker and maintenance windows.

Every fence, unfence and migration the compliance manager decides on is a
row here before it is carried out, and its state moves forward as it
progresses (``pending`` -> ``running`` -> ``done`` / ``failed`` /
``stuck`` / ``cancelled``).  At most one action per (kind, subject) is open
at a time, so a DC-S that restarts in the middle of a migration finds the
open row and reconciles it instead of issuing it a second time.
"""

import datetime

import sqlalchemy as sa
from oslo_db import exception as db_exc

from acaas_nova import exception
from acaas_nova.db import api
from acaas_nova.db import changes
from acaas_nova.db import lookup
from acaas_nova.db import models
from acaas_nova.db import records

BREAKER = "breaker"
BREAKER_OPEN = "open"
BREAKER_CLOSED = "closed"
_MAX_ERROR = 2000


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def _record(row: models.ComplianceAction) -> records.ComplianceAction:
    return records.ComplianceAction(
        id=row.id,
        kind=row.kind,
        subject=row.subject,
        state=row.state,
        reason=row.reason,
        source_host=row.source_host,
        destination_host=row.destination_host,
        tier=row.tier,
        event_id=row.event_id,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        error=row.error,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _open_key(kind: str, subject: str) -> str:
    return "%s:%s" % (kind, subject)


@api.translate_errors
@api.context_manager.writer
def action_open(
    context,
    kind,
    subject,
    reason,
    source_host=None,
    destination_host=None,
    tier=None,
    event_id=None,
):
    """Record a new action, or return the one already open for it.

    :returns: (action, created)
    """
    if kind not in records.ACTION_KINDS:
        raise exception.Invalid(reason="unknown action kind %r" % kind)
    key = _open_key(kind, subject)
    existing = context.session.scalar(
        sa.select(models.ComplianceAction).where(
            models.ComplianceAction.open_key == key
        )
    )
    if existing is not None:
        return _record(existing), False
    row = models.ComplianceAction(
        kind=kind,
        subject=subject,
        open_key=key,
        state="pending",
        reason=reason,
        source_host=source_host,
        destination_host=destination_host,
        tier=tier,
        event_id=event_id,
        attempts=0,
    )
    context.session.add(row)
    try:
        context.session.flush()
    except db_exc.DBDuplicateEntry as exc:
        # Another DC-S opened it between our read and our write.
        raise exception.Duplicate(kind="Open action", name=key) from exc
    return _record(row), True


@api.translate_errors
@api.context_manager.writer
def action_update(
    context,
    action_id,
    state,
    error=None,
    destination_host=None,
    count_attempt=False,
    retry_after=None,
    expect_state=None,
):
    """Move an action to ``state``; closing it frees its (kind, subject).

    ``expect_state`` makes the update conditional (compare-and-set): the
    call raises Conflict when another writer moved the action first.
    """
    if state not in records.ACTION_STATES:
        raise exception.Invalid(reason="unknown action state %r" % state)
    row = context.session.get(models.ComplianceAction, action_id)
    if row is None:
        raise exception.NotFound(kind="Compliance action", name=action_id)
    if expect_state is not None and row.state != expect_state:
        raise exception.Conflict(
            reason="action %d is %s, not %s"
            % (action_id, row.state, expect_state)
        )
    row.state = state
    if state not in records.ACTION_OPEN_STATES:
        row.open_key = None
    if error is not None:
        row.error = error[:_MAX_ERROR]
    if destination_host is not None:
        row.destination_host = destination_host
    if count_attempt:
        row.attempts = (row.attempts or 0) + 1
    row.next_attempt_at = (
        None
        if retry_after is None
        else _now() + datetime.timedelta(seconds=retry_after)
    )
    context.session.flush()
    return _record(row)


@api.translate_errors
@api.context_manager.reader
def action_list(context, states=None, kind=None, limit=None):
    """Actions, newest first, optionally only some states or one kind."""
    query = sa.select(models.ComplianceAction)
    if states:
        query = query.where(models.ComplianceAction.state.in_(list(states)))
    if kind:
        query = query.where(models.ComplianceAction.kind == kind)
    query = query.order_by(models.ComplianceAction.id.desc())
    if limit:
        query = query.limit(limit)
    return [_record(r) for r in context.session.scalars(query)]


@api.translate_errors
@api.context_manager.reader
def latest_actions(context, kind, subjects):
    """subject -> its newest action of ``kind``, for those that have one
    (a few queries, whatever the number of subjects)."""
    subjects = sorted(set(subjects))
    latest = {}
    for start in range(0, len(subjects), 500):
        chunk = subjects[start : start + 500]
        rows = context.session.scalars(
            sa.select(models.ComplianceAction)
            .where(
                models.ComplianceAction.kind == kind,
                models.ComplianceAction.subject.in_(chunk),
            )
            .order_by(models.ComplianceAction.id.desc())
        )
        for row in rows:
            latest.setdefault(row.subject, _record(row))
    return latest


@api.translate_errors
@api.context_manager.reader
def fenced_hosts(context):
    """Hosts whose latest finished fence is not followed by an unfence."""
    rows = context.session.execute(
        sa.select(
            models.ComplianceAction.subject,
            models.ComplianceAction.kind,
        )
        .where(
            models.ComplianceAction.kind.in_(("fence", "unfence")),
            models.ComplianceAction.state == "done",
        )
        .order_by(models.ComplianceAction.id)
    )
    fenced: set[str] = set()
    for subject, kind in rows:
        if kind == "fence":
            fenced.add(subject)
        else:
            fenced.discard(subject)
    return sorted(fenced)


@api.translate_errors
@api.context_manager.reader
def flag_get(context, name):
    """(value, reason, updated_at) of a flag, or None when never set."""
    row = context.session.get(models.ComplianceFlag, name)
    if row is None:
        return None
    return row.value, row.reason, row.updated_at


@api.translate_errors
@api.context_manager.writer
def flag_set(context, name, value, reason=None):
    row = context.session.get(models.ComplianceFlag, name)
    if row is None:
        row = models.ComplianceFlag(name=name, value=value, reason=reason)
        context.session.add(row)
    else:
        row.value = value
        row.reason = reason
        row.updated_at = _now()
    context.session.flush()


def breaker_open(context) -> bool:
    flag = flag_get(context, BREAKER)
    return flag is not None and flag[0] == BREAKER_OPEN


@api.translate_errors
@api.context_manager.writer
def maintenance_set(context, domain, on):
    """Start (``on``) or stop a domain's maintenance window.

    :returns: True when the state changed.
    """
    row = lookup.domain(context.session, domain)
    if bool(row.maintenance_since) == bool(on):
        return False
    row.maintenance_since = _now() if on else None
    changes.note(
        context.session,
        "maintenance of domain %s %s" % (domain, "started" if on else "ended"),
    )
    context.session.flush()
    return True


@api.translate_errors
@api.context_manager.reader
def maintenance_domains(context):
    """Names of the domains in maintenance, with the start of each."""
    rows = context.session.execute(
        sa.select(
            models.PhysicalLayerDomain.name,
            models.PhysicalLayerDomain.maintenance_since,
        ).where(models.PhysicalLayerDomain.maintenance_since.is_not(None))
    )
    return dict(rows.all())


@api.translate_errors
@api.context_manager.reader
def tracked_instances(context):
    """uuid -> (project_id, user_id, stored requirements text or None) of
    every instance the filter recorded, in one query."""
    rows = context.session.execute(
        sa.select(
            models.InstanceTrust.instance_uuid,
            models.InstanceTrust.project_id,
            models.InstanceTrust.user_id,
            models.InstanceTrust.requirements,
        )
    )
    return {uuid: (project, user, reqs) for uuid, project, user, reqs in rows}
