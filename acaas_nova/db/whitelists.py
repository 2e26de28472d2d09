"""Named, versioned white-lists of known-good measurements."""

import hashlib

import sqlalchemy as sa
from oslo_db import exception as db_exc

from acaas_nova import exception
from acaas_nova.db import api
from acaas_nova.db import changes
from acaas_nova.db import models
from acaas_nova.db import nodes as nodes_db
from acaas_nova.db import records


def _to_record(row):
    return records.Whitelist(
        name=row.name,
        version=row.version,
        description=row.description,
        content=row.content,
        digest=row.digest,
        created_at=nodes_db.aware(row.created_at),
    )


@api.translate_errors
@api.context_manager.writer
def whitelist_create(context, name, version, content, description=None):
    """Store one version of a white-list document (already validated)."""
    if not name or not name.strip():
        raise exception.Invalid(reason="white-list name must not be empty")
    version = str(version)
    if not version.strip():
        raise exception.Invalid(reason="white-list version must not be empty")
    row = models.Whitelist(
        name=name,
        version=version,
        description=description,
        content=content,
        digest=hashlib.sha256(content.encode("utf-8")).hexdigest(),
    )
    context.session.add(row)
    try:
        context.session.flush()
    except db_exc.DBDuplicateEntry as exc:
        raise exception.Duplicate(
            kind="White-list", name="%s version %s" % (name, version)
        ) from exc
    return _to_record(row)


@api.translate_errors
@api.context_manager.reader
def whitelist_list(context):
    """Every stored version, without loading the documents' meaning."""
    rows = context.session.scalars(
        sa.select(models.Whitelist).order_by(
            models.Whitelist.name, models.Whitelist.id
        )
    )
    return [_to_record(r) for r in rows]


@api.translate_errors
@api.context_manager.reader
def whitelist_get(context, name, version=None):
    """One version, or the newest one when ``version`` is None."""
    query = sa.select(models.Whitelist).where(models.Whitelist.name == name)
    if version is not None:
        query = query.where(models.Whitelist.version == str(version))
    row = context.session.scalars(
        query.order_by(models.Whitelist.id.desc())
    ).first()
    if row is None:
        label = name if version is None else "%s version %s" % (name, version)
        raise exception.NotFound(kind="White-list", name=label)
    return _to_record(row)


@api.translate_errors
@api.context_manager.reader
def whitelist_latest(context):
    """The newest version of every white-list."""
    newest = (
        sa.select(
            models.Whitelist.name,
            sa.func.max(models.Whitelist.id).label("id"),
        )
        .group_by(models.Whitelist.name)
        .subquery()
    )
    rows = context.session.scalars(
        sa.select(models.Whitelist)
        .join(newest, newest.c.id == models.Whitelist.id)
        .order_by(models.Whitelist.name)
    )
    return [_to_record(r) for r in rows]


@api.translate_errors
@api.context_manager.writer
def whitelist_delete(context, name, version=None):
    """Delete one version, or every version when ``version`` is None."""
    query = sa.delete(models.Whitelist).where(models.Whitelist.name == name)
    if version is not None:
        query = query.where(models.Whitelist.version == str(version))
    if not context.session.execute(query).rowcount:
        label = name if version is None else "%s version %s" % (name, version)
        raise exception.NotFound(kind="White-list", name=label)
    changes.note(
        context.session,
        "white-list %s withdrawn"
        % (name if version is None else "%s version %s" % (name, version)),
    )
