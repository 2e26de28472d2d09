"""Requirement entries and per-project requirement specifications."""

import sqlalchemy as sa
from oslo_db import exception as db_exc

from acaas_nova import exception
from acaas_nova import requirement_types
from acaas_nova.db import api
from acaas_nova.db import models
from acaas_nova.db import records


@api.translate_errors
@api.context_manager.reader
def requirement_entry_list(context):
    rows = context.session.scalars(
        sa.select(models.RequirementEntry).order_by(
            models.RequirementEntry.name
        )
    )
    return [
        records.RequirementEntry(r.name, r.value_type, r.description)
        for r in rows
    ]


@api.translate_errors
@api.context_manager.writer
def requirement_entry_create(context, name, value_type, description):
    if not name or ":" in name or not name.strip():
        raise exception.Invalid(reason="invalid entry name %r" % name)
    if value_type not in requirement_types.VALUE_TYPES:
        raise exception.Invalid(
            reason="value type must be one of %s, not %r"
            % (", ".join(requirement_types.VALUE_TYPES), value_type)
        )
    context.session.add(
        models.RequirementEntry(
            name=name, value_type=value_type, description=description
        )
    )
    try:
        context.session.flush()
    except db_exc.DBDuplicateEntry as exc:
        raise exception.Duplicate(kind="Requirement entry", name=name) from exc
    return records.RequirementEntry(name, value_type, description)


def _entries(session):
    return {
        r.name: r for r in session.scalars(sa.select(models.RequirementEntry))
    }


def _validated(session, values):
    """[(entry row, key, canonical value)] for a {key: value} mapping."""
    entries = _entries(session)
    result = []
    for key, value in values.items():
        entry_name, _sub = requirement_types.split_key(key)
        entry = entries.get(entry_name)
        if entry is None:
            raise exception.InvalidRequirement(
                key=key, reason="no such requirement entry"
            )
        result.append(
            (
                entry,
                key,
                requirement_types.normalize(key, entry.value_type, value),
            )
        )
    return result


def _spec_row(session, project_id, name, user_id):
    row = session.scalars(
        sa.select(models.RequirementSpecification).where(
            models.RequirementSpecification.project_id == project_id,
            models.RequirementSpecification.user_id == (user_id or ""),
            models.RequirementSpecification.name == name,
        )
    ).first()
    if row is None:
        owner = project_id if not user_id else "%s/%s" % (project_id, user_id)
        raise exception.NotFound(
            kind="Requirement specification", name="%s of %s" % (name, owner)
        )
    return row


def _to_record(session, row):
    values = {
        v.key: v.value
        for v in session.scalars(
            sa.select(models.RequirementValue)
            .where(models.RequirementValue.spec_id == row.id)
            .order_by(models.RequirementValue.key)
        )
    }
    return records.RequirementSpec(
        name=row.name,
        project_id=row.project_id,
        user_id=row.user_id or None,
        values=values,
        description=row.description,
    )


def _write_values(session, spec_id, values):
    for entry, key, value in _validated(session, values):
        session.add(
            models.RequirementValue(
                spec_id=spec_id, entry_id=entry.id, key=key, value=value
            )
        )


@api.translate_errors
@api.context_manager.writer
def requirement_spec_create(
    context, project_id, name, values, user_id=None, description=None
):
    if not name or not name.strip() or not project_id:
        raise exception.Invalid(
            reason="a specification needs a name and a project"
        )
    session = context.session
    row = models.RequirementSpecification(
        name=name,
        project_id=project_id,
        user_id=user_id or "",
        description=description,
    )
    session.add(row)
    try:
        session.flush()
    except db_exc.DBDuplicateEntry as exc:
        raise exception.Duplicate(
            kind="Requirement specification",
            name="%s of %s" % (name, project_id),
        ) from exc
    _write_values(session, row.id, values)
    session.flush()
    return _to_record(session, row)


@api.translate_errors
@api.context_manager.reader
def requirement_spec_get(context, project_id, name, user_id=None):
    """A user's own specification if it exists, else the project's."""
    session = context.session
    if user_id:
        try:
            return _to_record(
                session, _spec_row(session, project_id, name, user_id)
            )
        except exception.NotFound:
            pass
    return _to_record(session, _spec_row(session, project_id, name, None))


@api.translate_errors
@api.context_manager.reader
def requirement_spec_list(context, project_id=None):
    query = sa.select(models.RequirementSpecification).order_by(
        models.RequirementSpecification.project_id,
        models.RequirementSpecification.user_id,
        models.RequirementSpecification.name,
    )
    if project_id is not None:
        query = query.where(
            models.RequirementSpecification.project_id == project_id
        )
    return [
        _to_record(context.session, r) for r in context.session.scalars(query)
    ]


@api.translate_errors
@api.context_manager.writer
def requirement_spec_update(
    context,
    project_id,
    name,
    set_values=None,
    unset_keys=(),
    user_id=None,
    description=None,
):
    session = context.session
    row = _spec_row(session, project_id, name, user_id)
    current = _to_record(session, row).values
    for key in unset_keys:
        if key not in current:
            raise exception.NotFound(
                kind="Requirement", name="%s in specification %s" % (key, name)
            )
        current.pop(key)
    current.update(set_values or {})
    session.execute(
        sa.delete(models.RequirementValue).where(
            models.RequirementValue.spec_id == row.id
        )
    )
    _write_values(session, row.id, current)
    if description is not None:
        row.description = description
    session.flush()
    return _to_record(session, row)


@api.translate_errors
@api.context_manager.writer
def requirement_spec_delete(context, project_id, name, user_id=None):
    context.session.delete(
        _spec_row(context.session, project_id, name, user_id)
    )
