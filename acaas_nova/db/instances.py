"""Instance trust records: the chapter's extension of nova's instances."""

import json
import logging

import sqlalchemy as sa

from acaas_nova.db import api
from acaas_nova.db import models
from acaas_nova.db import records

LOG = logging.getLogger(__name__)


def _id_list(column: str, text: str | None) -> tuple[str, ...]:
    """A stored JSON list of ids; ValueError naming the column if not."""
    try:
        value = json.loads(text or "[]")
    except ValueError:
        raise ValueError("%s is not valid JSON" % column) from None
    if not isinstance(value, list) or not all(
        isinstance(v, str) for v in value
    ):
        raise ValueError("%s is not a JSON list of strings" % column)
    return tuple(value)


def _to_record(row, spec_name=None):
    """A record; a corrupt row gives one with ``defect`` set, not an error.

    A record whose exclusions cannot be read must still constrain its
    neighbours (fail closed); the scheduler treats a defective record as
    excluding everyone but its own instance.
    """
    defect = None
    try:
        exclude_users = _id_list("exclude_users", row.exclude_users)
        exclude_projects = _id_list("exclude_projects", row.exclude_projects)
    except ValueError as exc:
        LOG.error(
            "ACaaS trust record of instance %s is corrupt: %s",
            row.instance_uuid,
            exc,
        )
        exclude_users = exclude_projects = ()
        defect = str(exc)
    return records.InstanceTrust(
        instance_uuid=row.instance_uuid,
        project_id=row.project_id,
        user_id=row.user_id,
        requirement_spec=spec_name,
        exclude_users=exclude_users,
        exclude_projects=exclude_projects,
        exclusive=bool(row.exclusive),
        rcot_virtual=row.rcot_virtual,
        rcot_application=row.rcot_application,
        requirements=row.requirements,
        defect=defect,
    )


def _row_values(record, spec_ids) -> dict:
    values = {
        "project_id": record.project_id,
        "user_id": record.user_id,
        "requirement_spec_id": spec_ids.get(
            (record.project_id, record.requirement_spec)
        ),
        "exclude_users": json.dumps(sorted(record.exclude_users)),
        "exclude_projects": json.dumps(sorted(record.exclude_projects)),
        "exclusive": record.exclusive,
        "requirements": record.requirements,
    }
    # The scheduler does not know them; keep what DC-S stored.
    if record.rcot_virtual is not None:
        values["rcot_virtual"] = record.rcot_virtual
    if record.rcot_application is not None:
        values["rcot_application"] = record.rcot_application
    return values


@api.translate_errors
@api.context_manager.writer
def instance_trust_set_many(context, trust_records):
    """Insert or replace many trust records in one transaction.

    One query finds the rows that exist and one the stored specification
    ids; new records go in with one multi-row INSERT, existing ones (an
    instance scheduled again: move, rebuild) with one executemany UPDATE.
    The scheduler's write-behind queue calls this with whole batches.
    """
    latest = {r.instance_uuid: r for r in trust_records}
    if not latest:
        return
    session = context.session
    model = models.InstanceTrust
    existing = dict(
        session.execute(
            sa.select(model.instance_uuid, model.id).where(
                model.instance_uuid.in_(list(latest))
            )
        ).all()
    )
    wanted = {
        (r.project_id, r.requirement_spec)
        for r in latest.values()
        if r.requirement_spec
    }
    spec_ids = {}
    if wanted:
        spec = models.RequirementSpecification
        for project_id, name, spec_id in session.execute(
            sa.select(spec.project_id, spec.name, spec.id).where(
                spec.project_id.in_({p for p, _ in wanted}),
                spec.name.in_({n for _, n in wanted}),
            )
        ):
            spec_ids[(project_id, name)] = spec_id
    inserts, updates = [], []
    for uuid, record in latest.items():
        values = _row_values(record, spec_ids)
        if uuid in existing:
            updates.append(dict(values, id=existing[uuid]))
        else:
            inserts.append(dict(values, instance_uuid=uuid))
    if inserts:
        session.execute(sa.insert(model), inserts)
    if updates:
        session.execute(sa.update(model), updates)


@api.translate_errors
@api.context_manager.writer
def instance_trust_set(context, record):
    """Insert or replace the trust record of ``record.instance_uuid``."""
    session = context.session
    row = session.scalars(
        sa.select(models.InstanceTrust).where(
            models.InstanceTrust.instance_uuid == record.instance_uuid
        )
    ).first()
    if row is None:
        row = models.InstanceTrust(instance_uuid=record.instance_uuid)
        session.add(row)
    spec_id = None
    if record.requirement_spec:
        spec_id = session.scalar(
            sa.select(models.RequirementSpecification.id).where(
                models.RequirementSpecification.project_id
                == record.project_id,
                models.RequirementSpecification.name
                == record.requirement_spec,
            )
        )
    row.project_id = record.project_id
    row.user_id = record.user_id
    row.requirement_spec_id = spec_id
    row.exclude_users = json.dumps(sorted(record.exclude_users))
    row.exclude_projects = json.dumps(sorted(record.exclude_projects))
    row.exclusive = record.exclusive
    row.rcot_virtual = record.rcot_virtual
    row.rcot_application = record.rcot_application
    row.requirements = record.requirements


@api.translate_errors
@api.context_manager.reader
def instance_trust_get(context, instance_uuid):
    row = context.session.scalars(
        sa.select(models.InstanceTrust).where(
            models.InstanceTrust.instance_uuid == instance_uuid
        )
    ).first()
    return None if row is None else _to_record(row)


@api.translate_errors
@api.context_manager.reader
def instance_constraints_list(context):
    """Instances that constrain their neighbours (exclusions, exclusive)."""
    query = sa.select(models.InstanceTrust).where(
        sa.or_(
            models.InstanceTrust.exclusive.is_(True),
            sa.and_(
                models.InstanceTrust.exclude_users.is_not(None),
                models.InstanceTrust.exclude_users != "[]",
            ),
            sa.and_(
                models.InstanceTrust.exclude_projects.is_not(None),
                models.InstanceTrust.exclude_projects != "[]",
            ),
        )
    )
    return [_to_record(r) for r in context.session.scalars(query)]


@api.translate_errors
@api.context_manager.writer
def instance_trust_delete(context, instance_uuid):
    context.session.execute(
        sa.delete(models.InstanceTrust).where(
            models.InstanceTrust.instance_uuid == instance_uuid
        )
    )
