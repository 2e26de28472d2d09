"""Compute node records: identity, domain, properties and trust state."""

import datetime
import json

import sqlalchemy as sa
from oslo_db import exception as db_exc

from acaas_nova import exception
from acaas_nova.attestation import registration
from acaas_nova.db import api
from acaas_nova.db import changes
from acaas_nova.db import lookup
from acaas_nova.db import models
from acaas_nova.db import records


def aware(value):
    """Our naive-UTC column values as aware datetimes (None stays None)."""
    return None if value is None else value.replace(tzinfo=datetime.UTC)


def naive(value):
    """An aware datetime as the naive UTC we store."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(datetime.UTC).replace(tzinfo=None)


def to_record(session, row, properties=None, domains=None, failure=True):
    """Build a Node record.

    ``properties`` and ``domains`` (id -> name) spare per-row queries when
    many rows are converted; ``failure=False`` skips the last failure.
    """
    if properties is None:
        properties = {
            p.key: p.value
            for p in session.scalars(
                sa.select(models.NodeProperty).where(
                    models.NodeProperty.node_id == row.id
                )
            )
        }
    domain = None
    if row.domain_id is not None:
        if domains is not None:
            domain = domains[row.domain_id]
        else:
            domain = session.get(models.PhysicalLayerDomain, row.domain_id)
            domain = domain.name
    last_failure = None
    if failure and row.last_failure_event_id is not None:
        event = session.get(models.Event, row.last_failure_event_id)
        last_failure = event and "%s: %s" % (event.event_id, event.detail)
    return records.Node(
        host=row.host,
        hypervisor_hostname=row.hypervisor_hostname,
        compute_node_uuid=row.compute_node_uuid,
        domain=domain,
        properties=properties,
        status=row.status,
        rcot=row.rcot,
        whitelists=tuple(json.loads(row.whitelists or "[]")),
        last_attested_at=aware(row.last_attested_at),
        cid=row.cid,
        ak_name=row.ak_name,
        ek_fingerprint=row.ek_fingerprint,
        registered_at=aware(row.registered_at),
        last_failure=last_failure,
        expected_ek_fingerprint=row.expected_ek_fingerprint,
    )


@api.translate_errors
@api.context_manager.writer
def node_create(
    context,
    host,
    hypervisor_hostname=None,
    compute_node_uuid=None,
    domain=None,
    expected_ek_fingerprint=None,
):
    """Declare a compute node under nova's identity of it.

    Only a declared node may register with DC-S; with
    ``expected_ek_fingerprint`` (:func:`registration.parse_fingerprint`)
    only the TPM of that EK may.
    """
    if not host or ":" in host:
        raise exception.Invalid(reason="invalid host name %r" % host)
    if expected_ek_fingerprint is not None:
        expected_ek_fingerprint = registration.parse_fingerprint(
            expected_ek_fingerprint
        )
    hypervisor_hostname = hypervisor_hostname or host
    row = models.ComputeNode(
        host=host,
        hypervisor_hostname=hypervisor_hostname,
        compute_node_uuid=compute_node_uuid,
        status=records.TRUST_UNKNOWN,
        expected_ek_fingerprint=expected_ek_fingerprint,
    )
    if domain is not None:
        row.domain_id = lookup.domain(context.session, domain).id
    context.session.add(row)
    try:
        context.session.flush()
    except db_exc.DBDuplicateEntry as exc:
        raise exception.Duplicate(
            kind="Host", name="%s:%s" % (host, hypervisor_hostname)
        ) from exc
    return to_record(context.session, row, properties={})


@api.translate_errors
@api.context_manager.reader
def node_get(context, host, hypervisor_hostname=None):
    row = lookup.node(context.session, host, hypervisor_hostname)
    return to_record(context.session, row)


#: Event ids per query when node_list loads last failures.
LIST_CHUNK = 500


@api.translate_errors
@api.context_manager.reader
def node_list(context, domain=None):
    query = sa.select(models.ComputeNode).order_by(
        models.ComputeNode.host, models.ComputeNode.hypervisor_hostname
    )
    if domain is not None:
        query = query.where(
            models.ComputeNode.domain_id
            == lookup.domain(context.session, domain).id
        )
    session = context.session
    rows = list(session.scalars(query))
    # A few queries for all rows, not three per row (10,000 nodes).
    properties: dict[int, dict] = {row.id: {} for row in rows}
    wanted = set(properties)
    for prop in session.scalars(sa.select(models.NodeProperty)):
        if prop.node_id in wanted:
            properties[prop.node_id][prop.key] = prop.value
    domains = {
        d.id: d.name
        for d in session.scalars(sa.select(models.PhysicalLayerDomain))
    }
    failures = sorted({r.last_failure_event_id for r in rows} - {None})
    # Held here: the session maps loaded rows weakly, and to_record's
    # session.get then finds them without a query.
    loaded = []
    for start in range(0, len(failures), LIST_CHUNK):
        loaded.extend(
            session.scalars(
                sa.select(models.Event).where(
                    models.Event.id.in_(failures[start : start + LIST_CHUNK])
                )
            )
        )
    return [to_record(session, r, properties[r.id], domains) for r in rows]


@api.translate_errors
@api.context_manager.reader
def status_counts(context) -> dict[str, int]:
    """Trust status -> number of nodes with it, in one query."""
    return dict(
        context.session.execute(
            sa.select(models.ComputeNode.status, sa.func.count()).group_by(
                models.ComputeNode.status
            )
        ).all()
    )


@api.translate_errors
@api.context_manager.writer
def node_delete(context, host, hypervisor_hostname=None):
    row = lookup.node(context.session, host, hypervisor_hostname)
    context.session.delete(row)


@api.translate_errors
@api.context_manager.writer
def node_set_domain(context, host, hypervisor_hostname, domain):
    """Put a node in ``domain`` (None removes it from its domain)."""
    row = lookup.node(context.session, host, hypervisor_hostname)
    if domain is None:
        if row.domain_id is None:
            raise exception.Conflict(reason="host %s is in no domain" % host)
        row.domain_id = None
        changes.note(context.session, "host %s left its domain" % host)
    else:
        row.domain_id = lookup.domain(context.session, domain).id
        changes.note(
            context.session, "host %s joined domain %s" % (host, domain)
        )
    return to_record(context.session, row)


@api.translate_errors
@api.context_manager.writer
def property_add(context, host, hypervisor_hostname, key, value):
    """Set (add or replace) one property of a node."""
    if not key or not key.strip():
        raise exception.Invalid(reason="property key must not be empty")
    row = lookup.node(context.session, host, hypervisor_hostname)
    prop = context.session.scalars(
        sa.select(models.NodeProperty).where(
            models.NodeProperty.node_id == row.id,
            models.NodeProperty.key == key,
        )
    ).first()
    if prop is None:
        context.session.add(
            models.NodeProperty(node_id=row.id, key=key, value=value)
        )
    else:
        prop.value = value
    changes.note(context.session, "property %s of host %s set" % (key, host))


@api.translate_errors
@api.context_manager.reader
def property_get(context, host, hypervisor_hostname=None):
    row = lookup.node(context.session, host, hypervisor_hostname)
    return to_record(context.session, row).properties


@api.translate_errors
@api.context_manager.writer
def property_remove(context, host, hypervisor_hostname, key):
    row = lookup.node(context.session, host, hypervisor_hostname)
    deleted = context.session.execute(
        sa.delete(models.NodeProperty).where(
            models.NodeProperty.node_id == row.id,
            models.NodeProperty.key == key,
        )
    ).rowcount
    if not deleted:
        raise exception.NotFound(
            kind="Property", name="%s of host %s" % (key, host)
        )
    changes.note(
        context.session, "property %s of host %s removed" % (key, host)
    )


@api.translate_errors
@api.context_manager.writer
def node_set_trust(
    context,
    host,
    hypervisor_hostname,
    status,
    whitelists=(),
    rcot=None,
    attested_at=None,
    failure_event_id=None,
):
    """Record the outcome of an attestation of a node."""
    if status not in records.TRUST_STATUSES:
        raise exception.Invalid(reason="unknown trust status %r" % status)
    row = lookup.node(context.session, host, hypervisor_hostname)
    row.status = status
    row.whitelists = json.dumps(sorted(whitelists))
    row.rcot = rcot
    if attested_at is not None:
        row.last_attested_at = naive(attested_at)
    if failure_event_id is not None:
        row.last_failure_event_id = failure_event_id
    return to_record(context.session, row)


@api.translate_errors
@api.context_manager.writer
def properties_set(context, host, hypervisor_hostname, properties):
    """Set several properties of a node in one transaction."""
    for key, value in properties.items():
        property_add(context, host, hypervisor_hostname, key, value)
    return property_get(context, host, hypervisor_hostname)


@api.translate_errors
@api.context_manager.writer
def properties_remove(context, host, hypervisor_hostname, keys):
    """Remove several properties of a node; all or none."""
    for key in keys:
        property_remove(context, host, hypervisor_hostname, key)
    return property_get(context, host, hypervisor_hostname)


@api.translate_errors
@api.context_manager.writer
def node_leave_domain(context, host, hypervisor_hostname, domain):
    """Take a node out of ``domain``, refusing if it is not a member."""
    row = lookup.node(context.session, host, hypervisor_hostname)
    dom = lookup.domain(context.session, domain)
    if row.domain_id != dom.id:
        raise exception.Conflict(
            reason="host %s is not in domain %s" % (host, domain)
        )
    row.domain_id = None
    changes.note(context.session, "host %s left domain %s" % (host, domain))
    return to_record(context.session, row)
