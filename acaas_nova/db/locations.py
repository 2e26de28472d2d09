"""Locations and the distances between them."""

import sqlalchemy as sa
from oslo_db import exception as db_exc

from acaas_nova import exception
from acaas_nova.db import api
from acaas_nova.db import changes
from acaas_nova.db import lookup
from acaas_nova.db import models
from acaas_nova.db import records


@api.translate_errors
@api.context_manager.writer
def location_create(context, name, description=None):
    if not name or not name.strip():
        raise exception.Invalid(reason="location name must not be empty")
    row = models.Location(name=name, description=description)
    context.session.add(row)
    try:
        context.session.flush()
    except db_exc.DBDuplicateEntry as exc:
        raise exception.Duplicate(kind="Location", name=name) from exc
    return records.Location(name=name, description=description)


@api.translate_errors
@api.context_manager.reader
def location_list(context):
    rows = context.session.scalars(
        sa.select(models.Location).order_by(models.Location.name)
    )
    return [records.Location(r.name, r.description) for r in rows]


@api.translate_errors
@api.context_manager.writer
def location_delete(context, name):
    row = lookup.location(context.session, name)
    in_use = context.session.scalar(
        sa.select(sa.func.count(models.PhysicalLayerDomain.id)).where(
            models.PhysicalLayerDomain.location_id == row.id
        )
    )
    if in_use:
        raise exception.Conflict(
            reason="location %s is used by %d domain(s)" % (name, in_use)
        )
    context.session.delete(row)


@api.translate_errors
@api.context_manager.writer
def distance_set(context, location_a, location_b, distance):
    """Store the symmetric distance between two different locations."""
    if location_a == location_b:
        raise exception.Invalid(
            reason="a location has no distance to itself (%s)" % location_a
        )
    if isinstance(distance, bool) or not isinstance(distance, int):
        raise exception.Invalid(reason="distance must be an integer")
    if distance < 0:
        raise exception.Invalid(
            reason="distance must not be negative (got %d)" % distance
        )
    a = lookup.location(context.session, location_a)
    b = lookup.location(context.session, location_b)
    low, high = sorted((a.id, b.id))
    row = context.session.scalars(
        sa.select(models.LocationDistance).where(
            models.LocationDistance.location_a_id == low,
            models.LocationDistance.location_b_id == high,
        )
    ).first()
    if row is None:
        context.session.add(
            models.LocationDistance(
                location_a_id=low, location_b_id=high, distance=distance
            )
        )
    else:
        row.distance = distance
    changes.note(
        context.session,
        "distance %s-%s set to %d" % (location_a, location_b, distance),
    )
    return records.Distance(location_a, location_b, distance)


@api.translate_errors
@api.context_manager.reader
def distance_list(context, location=None):
    """Stored distances, each pair once (or every pair touching one)."""
    a = sa.orm.aliased(models.Location)
    b = sa.orm.aliased(models.Location)
    query = (
        sa.select(a.name, b.name, models.LocationDistance.distance)
        .join(a, a.id == models.LocationDistance.location_a_id)
        .join(b, b.id == models.LocationDistance.location_b_id)
    )
    if location is not None:
        lookup.location(context.session, location)
        query = query.where(sa.or_(a.name == location, b.name == location))
    result = []
    for name_a, name_b, distance in context.session.execute(query):
        if location is not None and name_b == location:
            name_a, name_b = name_b, name_a
        result.append(records.Distance(name_a, name_b, distance))
    return sorted(result, key=lambda d: (d.location_a, d.location_b))


@api.translate_errors
@api.context_manager.reader
def distance_get(context, location_a, location_b):
    """The distance between two locations (0 for the same), or None."""
    if location_a == location_b:
        lookup.location(context.session, location_a)
        return 0
    for d in distance_list(context, location_a):
        if d.location_b == location_b:
            return d.distance
    lookup.location(context.session, location_b)
    return None
