"""Why would (or did) a server go to ERROR?  Judge every host for a request.

``acaas-manage schedule explain`` calls :func:`explain` with the hints,
flavor extra specs and project of a request; it reads the same snapshot the
filter reads and applies the same pure matching and weighing, so an
operator sees, per host, "pass" or the reason the ACaaS filter rejects it.
Isolation (exclusions, exclusive) depends on nova's current instance list,
which only the scheduler sees; explain lists the requirement but does not
judge it.
"""

import dataclasses
import time

from acaas_nova import exception
from acaas_nova.db import snapshot as snapshot_db
from acaas_nova.scheduler import matching
from acaas_nova.scheduler import precedence
from acaas_nova.scheduler import requirements as reqs_mod
from acaas_nova.scheduler import runtime
from acaas_nova.scheduler import topology as topo_mod
from acaas_nova.scheduler import weighing


@dataclasses.dataclass(frozen=True)
class HostVerdict:
    host: str
    domain: str | None
    location: str | None
    status: str
    verdict: str  # "pass" or the reason


@dataclasses.dataclass(frozen=True)
class Explanation:
    requirements: str
    error: str | None
    hosts: tuple[HostVerdict, ...]
    #: Passing hosts, most preferred first (the weigher's order).
    preferred: tuple[str, ...]
    isolation_note: str | None = None


def parse_hints(items) -> dict[str, list[str]]:
    """``["k=v", ...]`` as nova's hint dict; a repeated key gives a list."""
    hints: dict[str, list[str]] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise exception.Invalid(
                reason="malformed hint %r: expected key=value" % item
            )
        hints.setdefault(key, []).append(value)
    return hints


def judge(
    topology: topo_mod.Topology,
    reqs: reqs_mod.Requirements,
    policy: matching.Policy,
    now: float,
) -> tuple[tuple[HostVerdict, ...], tuple[str, ...]]:
    """Verdict of every known node and the preference order (pure)."""
    matcher = matching.RequestMatcher(reqs, topology, policy, now)
    preference = weighing.Preference(topology, reqs.preferred_locations)
    verdicts = []
    passing = []
    for key in sorted(topology.nodes):
        node = topology.nodes[key]
        dom = topology.domains.get(node.domain) if node.domain else None
        reason = matcher.node_reason(key)
        verdicts.append(
            HostVerdict(
                host=node.ident,
                domain=node.domain,
                location=dom.location if dom else None,
                status=node.status,
                verdict=reason or "pass",
            )
        )
        if reason is None:
            passing.append((-preference.score(key), node.ident))
    return tuple(verdicts), tuple(ident for _, ident in sorted(passing))


def explain(
    context,
    policy: matching.Policy,
    hints: dict,
    flavor_specs: dict | None = None,
    project_id: str | None = None,
    user_id: str | None = None,
) -> Explanation:
    """Judge every host we know for one request's requirements.

    An invalid requirement is reported in ``error`` (every host fails, as
    in the scheduler), not raised.
    """
    topology = topo_mod.Topology(snapshot_db.snapshot_get(context))
    lookup = None
    if project_id:
        lookup = runtime.stored_spec_lookup(context, project_id, user_id)
    try:
        reqs = precedence.resolve(hints, flavor_specs, lookup)
    except (exception.Invalid, exception.NotFound) as exc:
        failed = tuple(
            HostVerdict(n.ident, n.domain, None, n.status, str(exc))
            for _, n in sorted(topology.nodes.items())
        )
        return Explanation("invalid", str(exc), failed, ())
    verdicts, preferred = judge(topology, reqs, policy, time.time())
    note = None
    if reqs.exclude_users or reqs.exclude_projects or reqs.exclusive:
        note = (
            "isolation requirements are checked by the scheduler against "
            "the instances nova reports on each host; not judged here"
        )
    return Explanation(
        reqs_mod.describe(reqs), None, verdicts, preferred, note
    )
