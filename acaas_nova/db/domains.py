"""Physical-layer domains, their capabilities and collaborating domains."""

import sqlalchemy as sa
from oslo_db import exception as db_exc

from acaas_nova import exception
from acaas_nova.db import api
from acaas_nova.db import changes
from acaas_nova.db import lookup
from acaas_nova.db import models
from acaas_nova.db import records


def _validate_source(source):
    if source not in records.DOMAIN_SOURCES:
        raise exception.Invalid(
            reason="domain source must be one of %s, not %r"
            % (", ".join(records.DOMAIN_SOURCES), source)
        )


def _capabilities(session, domain_id):
    rows = session.scalars(
        sa.select(models.DomainCapability).where(
            models.DomainCapability.domain_id == domain_id
        )
    )
    return {r.key: r.value for r in rows}


def _capability_difference(source_caps, backup_caps):
    """The first capability (sorted) on which two domains differ, or None."""
    for key in sorted(set(source_caps) | set(backup_caps)):
        if source_caps.get(key) != backup_caps.get(key):
            return key
    return None


def _to_record(session, row):
    location = session.get(models.Location, row.location_id)
    backups = session.execute(
        sa.select(
            models.PhysicalLayerDomain.name,
            models.CollaboratingPLDomain.priority,
        )
        .join(
            models.CollaboratingPLDomain,
            models.CollaboratingPLDomain.backup_domain_id
            == models.PhysicalLayerDomain.id,
        )
        .where(models.CollaboratingPLDomain.domain_id == row.id)
        .order_by(models.CollaboratingPLDomain.priority)
    )
    hosts = session.scalars(
        sa.select(models.ComputeNode.host)
        .where(models.ComputeNode.domain_id == row.id)
        .order_by(models.ComputeNode.host)
    )
    return records.Domain(
        name=row.name,
        location=location.name,
        source=row.source,
        capabilities=_capabilities(session, row.id),
        description=row.description,
        dcot=row.dcot,
        dcot_computed_at=row.dcot_computed_at,
        cdcot=row.cdcot,
        cdcot_computed_at=row.cdcot_computed_at,
        backups=tuple(
            records.Backup(row.name, name, prio) for name, prio in backups
        ),
        hosts=tuple(hosts),
    )


@api.translate_errors
@api.context_manager.writer
def domain_create(
    context,
    name,
    location,
    source=records.SOURCE_LOCAL,
    capabilities=None,
    description=None,
):
    if not name or not name.strip():
        raise exception.Invalid(reason="domain name must not be empty")
    _validate_source(source)
    loc = lookup.location(context.session, location)
    row = models.PhysicalLayerDomain(
        name=name, location_id=loc.id, source=source, description=description
    )
    context.session.add(row)
    try:
        context.session.flush()
    except db_exc.DBDuplicateEntry as exc:
        raise exception.Duplicate(kind="Domain", name=name) from exc
    for key, value in (capabilities or {}).items():
        context.session.add(
            models.DomainCapability(domain_id=row.id, key=key, value=value)
        )
    context.session.flush()
    return _to_record(context.session, row)


@api.translate_errors
@api.context_manager.reader
def domain_get(context, name):
    return _to_record(context.session, lookup.domain(context.session, name))


@api.translate_errors
@api.context_manager.reader
def domain_list(context):
    rows = context.session.scalars(
        sa.select(models.PhysicalLayerDomain).order_by(
            models.PhysicalLayerDomain.name
        )
    )
    return [_to_record(context.session, row) for row in rows]


@api.translate_errors
@api.context_manager.writer
def domain_update(
    context,
    name,
    location=None,
    source=None,
    description=None,
    set_capabilities=None,
    unset_capabilities=(),
):
    """Change a domain; capability changes must keep backups consistent."""
    session = context.session
    row = lookup.domain(session, name)
    if location is not None:
        row.location_id = lookup.location(session, location).id
    if source is not None:
        _validate_source(source)
        row.source = source
    if description is not None:
        row.description = description
    caps = _capabilities(session, row.id)
    for key in unset_capabilities:
        if key not in caps:
            raise exception.NotFound(
                kind="Capability", name="%s of domain %s" % (key, name)
            )
        caps.pop(key)
    caps.update(set_capabilities or {})
    _check_partners_agree(session, row, caps)
    session.execute(
        sa.delete(models.DomainCapability).where(
            models.DomainCapability.domain_id == row.id
        )
    )
    for key, value in caps.items():
        session.add(
            models.DomainCapability(domain_id=row.id, key=key, value=value)
        )
    changes.note(session, "domain %s changed" % name)
    session.flush()
    return _to_record(session, row)


def _check_partners_agree(session, row, caps):
    """Refuse capabilities that would break a source/backup pairing."""
    pairs = session.scalars(
        sa.select(models.CollaboratingPLDomain).where(
            sa.or_(
                models.CollaboratingPLDomain.domain_id == row.id,
                models.CollaboratingPLDomain.backup_domain_id == row.id,
            )
        )
    )
    for pair in pairs:
        other_id = (
            pair.backup_domain_id
            if pair.domain_id == row.id
            else pair.domain_id
        )
        other = session.get(models.PhysicalLayerDomain, other_id)
        key = _capability_difference(caps, _capabilities(session, other_id))
        if key is not None:
            raise exception.Conflict(
                reason="capability %s of domain %s would differ from its "
                "collaborating domain %s" % (key, row.name, other.name)
            )


@api.translate_errors
@api.context_manager.writer
def domain_delete(context, name):
    row = lookup.domain(context.session, name)
    hosts = context.session.scalar(
        sa.select(sa.func.count(models.ComputeNode.id)).where(
            models.ComputeNode.domain_id == row.id
        )
    )
    if hosts:
        raise exception.Conflict(
            reason="domain %s still has %d host(s); remove them first"
            % (name, hosts)
        )
    context.session.delete(row)
    changes.note(context.session, "domain %s deleted" % name)


@api.translate_errors
@api.context_manager.writer
def backup_add(context, domain, backup, priority):
    """Make ``backup`` a collaborating domain of ``domain``."""
    if domain == backup:
        raise exception.Invalid(
            reason="domain %s cannot back itself up" % domain
        )
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise exception.Invalid(reason="priority must be an integer")
    session = context.session
    src = lookup.domain(session, domain)
    dst = lookup.domain(session, backup)
    key = _capability_difference(
        _capabilities(session, src.id), _capabilities(session, dst.id)
    )
    if key is not None:
        raise exception.Conflict(
            reason="backup domain %s differs from %s in capability %s"
            % (backup, domain, key)
        )
    existing = session.scalars(
        sa.select(models.CollaboratingPLDomain).where(
            models.CollaboratingPLDomain.domain_id == src.id
        )
    ).all()
    for pair in existing:
        if pair.backup_domain_id == dst.id:
            raise exception.Duplicate(
                kind="Backup", name="%s of domain %s" % (backup, domain)
            )
        if pair.priority == priority:
            raise exception.Conflict(
                reason="domain %s already has a backup with priority %d"
                % (domain, priority)
            )
    session.add(
        models.CollaboratingPLDomain(
            domain_id=src.id, backup_domain_id=dst.id, priority=priority
        )
    )
    try:
        session.flush()
    except db_exc.DBDuplicateEntry as exc:
        raise exception.Duplicate(
            kind="Backup", name="%s of domain %s" % (backup, domain)
        ) from exc
    changes.note(session, "domain %s backed up by %s" % (domain, backup))
    return records.Backup(domain, backup, priority)


@api.translate_errors
@api.context_manager.writer
def backup_remove(context, domain, backup):
    session = context.session
    src = lookup.domain(session, domain)
    dst = lookup.domain(session, backup)
    deleted = session.execute(
        sa.delete(models.CollaboratingPLDomain).where(
            models.CollaboratingPLDomain.domain_id == src.id,
            models.CollaboratingPLDomain.backup_domain_id == dst.id,
        )
    ).rowcount
    if not deleted:
        raise exception.NotFound(
            kind="Backup", name="%s of domain %s" % (backup, domain)
        )
    changes.note(
        session, "domain %s no longer backed up by %s" % (domain, backup)
    )


@api.translate_errors
@api.context_manager.writer
def domain_dcot_set(context, name, dcot, cdcot, computed_at):
    """Store the DCoT/CDCoT DC-S computed for a domain (None: undefined)."""
    row = lookup.domain(context.session, name)
    row.dcot, row.dcot_computed_at = dcot, computed_at
    row.cdcot, row.cdcot_computed_at = cdcot, computed_at
