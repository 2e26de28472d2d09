"""Instance trust records: the chapter's extension of nova's instances."""

import json

import sqlalchemy as sa

from acaas_nova.db import api
from acaas_nova.db import models
from acaas_nova.db import records


def _to_record(row, spec_name=None):
    return records.InstanceTrust(
        instance_uuid=row.instance_uuid,
        project_id=row.project_id,
        user_id=row.user_id,
        requirement_spec=spec_name,
        exclude_users=tuple(json.loads(row.exclude_users or "[]")),
        exclude_projects=tuple(json.loads(row.exclude_projects or "[]")),
        exclusive=bool(row.exclusive),
        rcot_virtual=row.rcot_virtual,
        rcot_application=row.rcot_application,
        requirements=row.requirements,
    )


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
