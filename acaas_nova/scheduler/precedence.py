"""How requirements from hints, stored specifications and flavors combine.

Precedence (also in docs/scheduler.rst):

1. The stored specification named by ``acaas:requirement`` is the tenant's
   baseline; a hint replaces it key by key.
2. The flavor's extra specs are the operator's floor; the tenant's
   requirements can only tighten them.  Location, white-list, exclusion and
   capability requirements from both sides all apply (a host must satisfy the
   flavor's *and* the tenant's); exclusions and the white-lists of
   ``domain_trust`` / ``backup_trust`` are unions.  A tenant cannot
   set ``isolation=shared`` against an exclusive flavor, nor
   ``allow_emergency=true`` against a flavor that says false (both are
   refused, not ignored); a tenant may say ``allow_emergency=false`` when the
   flavor allows it; a capability given different values by both is refused.

Pure module.
"""

import dataclasses
from collections.abc import Callable
from collections.abc import Mapping

from acaas_nova import exception
from acaas_nova.scheduler.requirements import CAPABILITY
from acaas_nova.scheduler.requirements import EMPTY
from acaas_nova.scheduler.requirements import PREFIX
from acaas_nova.scheduler.requirements import RawValue
from acaas_nova.scheduler.requirements import Requirements
from acaas_nova.scheduler.requirements import acaas_items
from acaas_nova.scheduler.requirements import parse


def overlay(stored: Requirements, hints: Requirements) -> Requirements:
    """The tenant's requirements: hint fields replace stored ones."""
    changes = {
        f.name: getattr(hints, f.name)
        for f in dataclasses.fields(Requirements)
        if getattr(hints, f.name) != getattr(EMPTY, f.name)
    }
    return dataclasses.replace(stored, **changes)


def merge(flavor: Requirements, tenant: Requirements) -> Requirements:
    """Combine the operator's floor (flavor) with the tenant's wishes.

    :raises InvalidRequirement: the tenant tries to relax the flavor.
    """
    if flavor.exclusive and tenant.isolation == "shared":
        raise exception.InvalidRequirement(
            key=PREFIX + "isolation",
            reason="the flavor requires exclusive; a hint cannot relax it",
        )
    if flavor.allow_emergency is False and tenant.allow_emergency:
        raise exception.InvalidRequirement(
            key=PREFIX + "allow_emergency",
            reason="the flavor forbids emergency domains",
        )
    caps = dict(flavor.capabilities)
    for key, value in tenant.capabilities:
        if caps.get(key, value) != value:
            raise exception.InvalidRequirement(
                key=PREFIX + CAPABILITY + key,
                reason="%r conflicts with the flavor's %r"
                % (value, caps[key]),
            )
        caps[key] = value
    emergency = flavor.allow_emergency
    if tenant.allow_emergency is not None:
        emergency = tenant.allow_emergency
    isolation = tenant.isolation or flavor.isolation
    if flavor.exclusive:
        isolation = "exclusive"
    return Requirements(
        location_rules=flavor.location_rules + tenant.location_rules,
        whitelists=flavor.whitelists | tenant.whitelists,
        exclude_users=flavor.exclude_users | tenant.exclude_users,
        exclude_projects=flavor.exclude_projects | tenant.exclude_projects,
        isolation=isolation,
        allow_emergency=emergency,
        capabilities=tuple(sorted(caps.items())),
        requirement=tenant.requirement,
        domain_trust=flavor.domain_trust | tenant.domain_trust,
        backup_trust=flavor.backup_trust | tenant.backup_trust,
    )


def resolve(
    hints: Mapping[str, RawValue] | None,
    extra_specs: Mapping[str, str] | None,
    stored_spec: Callable[[str], Mapping[str, str]] | None = None,
) -> Requirements:
    """The effective requirements of one request.

    :param hints: the request's scheduler hints (any keys; only ``acaas:``
        ones are read).
    :param extra_specs: the flavor's extra specs, likewise.
    :param stored_spec: returns the values of a stored requirement
        specification by name (for the request's project); it raises
        NotFound for an unknown name.
    :raises InvalidRequirement: any source is invalid, or the tenant relaxes
        the flavor.
    """
    flavor = parse(acaas_items(extra_specs), allow_reference=False)
    hinted = parse(acaas_items(hints))
    tenant = hinted
    if hinted.requirement is not None:
        if stored_spec is None:
            raise exception.InvalidRequirement(
                key=PREFIX + "requirement",
                reason="stored specifications are not available here",
            )
        stored = parse(stored_spec(hinted.requirement), allow_reference=False)
        tenant = overlay(stored, hinted)
    return merge(flavor, tenant)
