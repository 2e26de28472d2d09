"""The scheduler's per-request isolation look-up.

Returns only the instance trust records that may exclude one requester (a
superset: exclusion lists are JSON text matched with LIKE, and the pure
``scheduler.matching.blocking_instances`` makes the exact decision), so the
cost per request does not grow with every constrained instance ever booted.
"""

import json

import sqlalchemy as sa

from acaas_nova.db import api
from acaas_nova.db import instances
from acaas_nova.db import models


def _contains(column, value: str):
    # json.dumps quotes the item exactly as the list was stored.
    return column.like("%" + json.dumps(value) + "%")


@api.translate_errors
@api.context_manager.reader
def instance_blockers_get(context, user_id: str, project_id: str):
    """Records whose exclusions name the user or project, or that are
    exclusive to another project."""
    model = models.InstanceTrust
    query = sa.select(model).where(
        sa.or_(
            _contains(model.exclude_users, user_id),
            _contains(model.exclude_projects, project_id),
            sa.and_(model.exclusive.is_(True), model.project_id != project_id),
        )
    )
    return [instances._to_record(r) for r in context.session.scalars(query)]
