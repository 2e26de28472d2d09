"""Build small SchedulingSnapshot records for the scheduler's unit tests.

The cloud: locations UK, FR (distance 5) and US (distance 50 from UK, 45
from FR); domains uk-a (UK, gpu=yes), uk-b (UK, backups uk-a then fr-a),
fr-a (FR), em-us (US, emergency); one node per domain, all trusted and
freshly attested with white-list ``gold`` (``silver`` too on uk-b).
"""

import datetime

from acaas_nova.db import records

NOW = datetime.datetime(2026, 11, 26, 12, 0, 0)
NOW_TS = NOW.replace(tzinfo=datetime.UTC).timestamp()


def domain(name, location, source="local", caps=None, backups=()):
    return records.Domain(
        name=name,
        location=location,
        source=source,
        capabilities=dict(caps or {}),
        backups=tuple(
            records.Backup(domain=name, backup=b, priority=p)
            for b, p in backups
        ),
    )


def node(host, dom, status="trusted", age=10, whitelists=("gold",), **props):
    attested = None if age is None else NOW - datetime.timedelta(seconds=age)
    return records.Node(
        host=host,
        hypervisor_hostname=host,
        compute_node_uuid=None,
        domain=dom,
        properties=dict(props),
        status=status,
        whitelists=tuple(whitelists),
        last_attested_at=attested,
    )


def snapshot(nodes=None, domains=None, distances=None):
    if domains is None:
        domains = [
            domain("uk-a", "UK", caps={"gpu": "yes"}),
            domain("uk-b", "UK", backups=[("fr-a", 2), ("uk-a", 1)]),
            domain("fr-a", "FR"),
            domain("em-us", "US", source="emergency"),
        ]
    if nodes is None:
        nodes = [
            node("h-uk-a", "uk-a"),
            node("h-uk-b", "uk-b", whitelists=("gold", "silver")),
            node("h-fr-a", "fr-a"),
            node("h-em-us", "em-us"),
        ]
    if distances is None:
        distances = {("UK", "FR"): 5, ("UK", "US"): 50, ("FR", "US"): 45}
    both = {}
    for (a, b), d in distances.items():
        both[(a, b)] = d
        both[(b, a)] = d
    return records.SchedulingSnapshot(
        nodes={(n.host, n.hypervisor_hostname): n for n in nodes},
        domains={d.name: d for d in domains},
        locations=frozenset(d.location for d in domains),
        distances=both,
        taken_at=NOW,
    )
