"""One read of everything the scheduler needs (a few queries, no N+1).

A corrupt row (e.g. malformed JSON in a node's white-list column) never
fails the whole read: the node comes back with ``defect`` set, so the
scheduler rejects that node alone, with the reason in its log.
"""

import collections
import datetime
import json
import logging

import sqlalchemy as sa

from acaas_nova.db import api
from acaas_nova.db import instances as instances_db
from acaas_nova.db import models
from acaas_nova.db import nodes as nodes_db
from acaas_nova.db import records

LOG = logging.getLogger(__name__)


def node_defect(row, domain_names) -> str | None:
    """Why a compute node row cannot be trusted as stored, or None."""
    try:
        whitelists = json.loads(row.whitelists or "[]")
    except ValueError:
        return "white-list column is not valid JSON"
    if not isinstance(whitelists, list) or not all(
        isinstance(w, str) for w in whitelists
    ):
        return "white-list column is not a JSON list of names"
    if row.status not in records.TRUST_STATUSES:
        return "unknown trust status %r" % (row.status,)
    if row.domain_id is not None and row.domain_id not in domain_names:
        return "refers to a missing domain"
    return None


def _node(session, row, properties, domain_names):
    defect = node_defect(row, domain_names)
    if defect is None:
        try:
            return nodes_db.to_record(
                session,
                row,
                properties=properties,
                domains=domain_names,
                failure=False,
            )
        except (ValueError, TypeError, KeyError) as exc:
            defect = "unreadable record (%s)" % type(exc).__name__
    LOG.error(
        "ACaaS record of compute node %s (%s) is corrupt: %s; the "
        "scheduler rejects this node until it is repaired",
        row.host,
        row.hypervisor_hostname,
        defect,
    )
    return records.Node(
        host=row.host,
        hypervisor_hostname=row.hypervisor_hostname,
        compute_node_uuid=row.compute_node_uuid,
        domain=None,
        properties={},
        status=records.TRUST_UNKNOWN,
        defect=defect,
    )


@api.translate_errors
@api.context_manager.reader
def snapshot_get(context):
    session = context.session
    locations = {
        row.id: row.name for row in session.scalars(sa.select(models.Location))
    }
    caps = collections.defaultdict(dict)
    for cap in session.scalars(sa.select(models.DomainCapability)):
        caps[cap.domain_id][cap.key] = cap.value
    domain_rows = list(session.scalars(sa.select(models.PhysicalLayerDomain)))
    domain_names = {row.id: row.name for row in domain_rows}
    backups = collections.defaultdict(list)
    for pair in session.scalars(
        sa.select(models.CollaboratingPLDomain).order_by(
            models.CollaboratingPLDomain.priority
        )
    ):
        src = domain_names[pair.domain_id]
        backups[pair.domain_id].append(
            records.Backup(
                src, domain_names[pair.backup_domain_id], pair.priority
            )
        )
    props = collections.defaultdict(dict)
    for prop in session.scalars(sa.select(models.NodeProperty)):
        props[prop.node_id][prop.key] = prop.value
    node_rows = list(session.scalars(sa.select(models.ComputeNode)))
    hosts = collections.defaultdict(list)
    for row in node_rows:
        if row.domain_id is not None:
            hosts[row.domain_id].append(row.host)
    domains = {
        row.name: records.Domain(
            name=row.name,
            location=locations[row.location_id],
            source=row.source,
            capabilities=caps[row.id],
            description=row.description,
            dcot=row.dcot,
            dcot_computed_at=nodes_db.aware(row.dcot_computed_at),
            cdcot=row.cdcot,
            cdcot_computed_at=nodes_db.aware(row.cdcot_computed_at),
            backups=tuple(backups[row.id]),
            hosts=tuple(sorted(hosts[row.id])),
            maintenance=row.maintenance_since is not None,
        )
        for row in domain_rows
    }
    nodes = {}
    for row in node_rows:
        nodes[(row.host, row.hypervisor_hostname)] = _node(
            session, row, props[row.id], domain_names
        )
    distances = {}
    for d in session.scalars(sa.select(models.LocationDistance)):
        a, b = locations[d.location_a_id], locations[d.location_b_id]
        distances[(a, b)] = distances[(b, a)] = d.distance
    return records.SchedulingSnapshot(
        nodes=nodes,
        domains=domains,
        locations=frozenset(locations.values()),
        distances=distances,
        taken_at=datetime.datetime.now(datetime.UTC),
        instance_constraints=tuple(
            instances_db.instance_constraints_list(context)
        ),
    )
