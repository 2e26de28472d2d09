"""One read of everything the scheduler needs (a few queries, no N+1)."""

import collections
import datetime

import sqlalchemy as sa

from acaas_nova.db import api
from acaas_nova.db import models
from acaas_nova.db import nodes as nodes_db
from acaas_nova.db import records


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
        )
        for row in domain_rows
    }
    nodes = {}
    for row in node_rows:
        nodes[(row.host, row.hypervisor_hostname)] = nodes_db.to_record(
            session,
            row,
            properties=props[row.id],
            domains=domain_names,
            failure=False,
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
    )
