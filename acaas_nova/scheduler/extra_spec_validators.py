"""Validators for ``acaas:`` flavor extra specs, loaded by nova's API.

Registered under the ``nova.api.extra_spec_validators`` entry point, so
that (from API microversion 2.86) nova refuses an unknown ``acaas:`` key or
an invalid value when an operator sets a flavor extra spec.  The patterns
mirror :mod:`acaas_nova.scheduler.requirements`, which remains the
authority at scheduling time (it also checks combinations, such as
``max_distance`` without ``location``).  ``acaas:requirement`` is a hint
only and therefore not valid on a flavor.
"""

from nova.api.validation.extra_specs import base

_NAME = r"[A-Za-z0-9][A-Za-z0-9_.@:/-]{0,254}"
_NAMES = r"\s*%s\s*(,\s*%s\s*)*" % (_NAME, _NAME)


def _names(name: str, description: str) -> base.ExtraSpecValidator:
    return base.ExtraSpecValidator(
        name="acaas:%s" % name,
        description=description,
        value={
            "type": str,
            "pattern": _NAMES,
            "description": "One or more names, separated by commas.",
        },
    )


EXTRA_SPEC_VALIDATORS = [
    _names(
        "location",
        "Locations where instances of this flavor may run. Tenants may "
        "narrow this with a hint but never widen it.",
    ),
    base.ExtraSpecValidator(
        name="acaas:max_distance",
        description=(
            "With acaas:location: also accept locations within this "
            "distance of one of them."
        ),
        value={"type": int, "min": 0, "max": 999999},
    ),
    _names(
        "whitelist",
        "White-lists (trust levels) a host must currently satisfy.",
    ),
    _names(
        "exclude_users",
        "Users whose instances never share a physical host with these.",
    ),
    _names(
        "exclude_projects",
        "Projects whose instances never share a physical host with these.",
    ),
    base.ExtraSpecValidator(
        name="acaas:isolation",
        description=(
            "exclusive: the host runs only this project's instances; "
            "shared (default): no such restriction."
        ),
        value={"type": str, "enum": ["exclusive", "shared"]},
    ),
    base.ExtraSpecValidator(
        name="acaas:allow_emergency",
        description=(
            "Whether emergency (federated) physical domains may host "
            "instances of this flavor; false cannot be overridden by a hint."
        ),
        value={"type": bool},
    ),
    _names(
        "domain_trust",
        "White-lists under which every node of the host's physical domain "
        "must be trusted (the domain's DCoT is defined and holds them).",
    ),
    _names(
        "backup_trust",
        "White-lists under which every node of the host's domain and of "
        "its collaborating (backup) domains must be trusted (the CDCoT).",
    ),
    base.ExtraSpecValidator(
        name="acaas:capability:{key}",
        description=(
            "The host's domain capability or node property {key} must "
            "equal this value."
        ),
        parameters=[
            {
                "name": "key",
                "pattern": r"[A-Za-z0-9][A-Za-z0-9_.-]{0,254}",
                "description": "Capability or property name.",
            }
        ],
        value={"type": str, "pattern": r"\S(.*\S)?"},
    ),
]


def register() -> list[base.ExtraSpecValidator]:
    """nova's entry point hook."""
    return EXTRA_SPEC_VALIDATORS
