"""The operator-change marker the compliance loop polls.

An operator change that can break a running server's requirements
(a node's domain or properties, a domain's location, capabilities, source
or backups, a distance, a withdrawn white-list, a maintenance window) calls
:func:`note` inside its own transaction, which writes a fresh random token
to the ``operator_change`` row of ``compliance_flags``.  DC-S's
compliance loop reads the token every round and sweeps when it differs
from the one it saw last.  Anything else that needs a prompt sweep (DC-S's
listener of nova's notifications) writes the same marker with
:func:`change_note`.  Nothing depends on an event being delivered:
the marker is durable, a worker that becomes leader sees it, and two
changes committed together still leave a token no round has seen.
"""

import datetime
import uuid

import sqlalchemy as sa

from acaas_nova.db import api
from acaas_nova.db import models

OPERATOR_CHANGE = "operator_change"
_MAX_REASON = 1000


def note(session, what: str) -> None:
    """Mark an operator change (within the caller's transaction)."""
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    token = uuid.uuid4().hex
    values = {"value": token, "reason": what[:_MAX_REASON], "updated_at": now}
    updated = session.execute(
        sa.update(models.ComplianceFlag)
        .where(models.ComplianceFlag.name == OPERATOR_CHANGE)
        .values(**values)
    ).rowcount
    if not updated:
        # Migration 0004 creates the row; this covers a database whose
        # row was deleted by hand.
        session.add(models.ComplianceFlag(name=OPERATOR_CHANGE, **values))
    session.flush()


@api.translate_errors
@api.context_manager.writer
def change_note(context, what: str) -> None:
    """Mark a change in a transaction of its own (see :func:`note`)."""
    note(context.session, what)


@api.translate_errors
@api.context_manager.reader
def last(context):
    """(token, what, when) of the latest operator change, or None."""
    row = context.session.get(models.ComplianceFlag, OPERATOR_CHANGE)
    if row is None:
        return None
    return row.value, row.reason, row.updated_at
