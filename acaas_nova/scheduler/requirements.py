"""The ``acaas:`` requirements vocabulary: parsing, validation and merging.

A tenant states requirements in three places: scheduler hints, a stored
requirement specification named by the ``acaas:requirement`` hint (the
chapter's RS_ID) and the flavor's extra specs, which the operator sets.  All
three use one vocabulary (keys shown without the ``acaas:`` prefix):

=================== ======================================================
``location``        one or more location names (comma separated or a list)
``max_distance``    integer >= 0: also accept locations within this
                    distance of one of ``location``
``whitelist``       one or more white-list names the host must satisfy
``exclude_users``   user ids that must never share a host with this server
``exclude_projects`` project ids, likewise
``isolation``       ``exclusive`` (host runs only this project) or
                    ``shared`` (the default)
``allow_emergency`` ``true``/``false``: may emergency (federated) domains
                    host the server (default false)
``capability:<k>``  the host's domain capability or node property ``k``
                    must equal the value
``domain_trust``    white-list names: every node of the host's physical
                    domain is trusted under each (the domain's DCoT is
                    defined and its trust class holds them)
``backup_trust``    white-list names: the same across the host's domain
                    and its collaborating domains (the CDCoT)
``requirement``     (hint only) name of a stored requirement specification
=================== ======================================================

How the three sources combine is in :mod:`.precedence`.

This module is pure: it imports nothing from nova, oslo or SQLAlchemy.
"""

import dataclasses
import re
from collections.abc import Mapping

from acaas_nova import exception

PREFIX = "acaas:"
CAPABILITY = "capability:"

LIST_KEYS = frozenset(
    (
        "location",
        "whitelist",
        "exclude_users",
        "exclude_projects",
        "domain_trust",
        "backup_trust",
    )
)
SCALAR_KEYS = frozenset(
    ("max_distance", "isolation", "allow_emergency", "requirement")
)
KEYS = LIST_KEYS | SCALAR_KEYS
# Stored specifications use the requirement entry names of the data model.
ALIASES = {
    "excluded_users": "exclude_users",
    "excluded_projects": "exclude_projects",
}
ISOLATIONS = ("exclusive", "shared")
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@:/-]{0,254}")
_CAP_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,254}")
_DISTANCE = re.compile(r"[0-9]{1,6}")

#: Longest value (all items of one key together) and most items accepted;
#: a longer hint is refused before it is split or matched.
MAX_VALUE_CHARS = 4096
MAX_ITEMS = 256
#: Longest key looked at; longer ``acaas:`` keys are refused unread.
MAX_KEY_CHARS = 255
#: How much of a refused key or value a message shows.
SHOWN_CHARS = 40

RawValue = str | list[str] | tuple[str, ...]


def shown_key(key: str) -> str:
    """A key as typed when short and printable, else :func:`shown`."""
    if len(key) <= SHOWN_CHARS and key.isprintable() and " " not in key:
        return key
    return shown(key)


def shown(value: object) -> str:
    """A short, printable, escaped form of tenant input for messages.

    repr() escapes control characters and newlines (no log injection);
    long input is cut, so a 100 KB hint never reaches a log line whole.
    """
    text = repr(value)
    if len(text) > SHOWN_CHARS:
        text = text[:SHOWN_CHARS] + "...(%d chars)" % len(text)
    return text


@dataclasses.dataclass(frozen=True)
class LocationRule:
    """Accept hosts in ``locations`` or within ``max_distance`` of one."""

    locations: frozenset[str]
    max_distance: int = 0


@dataclasses.dataclass(frozen=True)
class Requirements:
    """Validated requirements of one source, or the merged effective set.

    ``None`` in a scalar field means "not stated"; the effective set answers
    with the defaults through :attr:`exclusive` / :attr:`emergency_ok`.
    """

    location_rules: tuple[LocationRule, ...] = ()
    whitelists: frozenset[str] = frozenset()
    exclude_users: frozenset[str] = frozenset()
    exclude_projects: frozenset[str] = frozenset()
    isolation: str | None = None
    allow_emergency: bool | None = None
    capabilities: tuple[tuple[str, str], ...] = ()
    requirement: str | None = None
    #: White-lists the host's domain's DCoT must hold (every member).
    domain_trust: frozenset[str] = frozenset()
    #: White-lists the CDCoT (domain and its backups) must hold.
    backup_trust: frozenset[str] = frozenset()

    @property
    def exclusive(self) -> bool:
        return self.isolation == "exclusive"

    @property
    def emergency_ok(self) -> bool:
        return bool(self.allow_emergency)

    @property
    def preferred_locations(self) -> frozenset[str]:
        """Locations the weigher prefers: the most specific rule's."""
        if not self.location_rules:
            return frozenset()
        return self.location_rules[-1].locations

    def is_empty(self) -> bool:
        return self == EMPTY


EMPTY = Requirements()


def _values(key: str, raw: RawValue) -> list[str]:
    """Split a hint value (string or list of strings) into clean items."""
    if isinstance(raw, str):
        items = [raw]
    elif isinstance(raw, (list, tuple)) and all(
        isinstance(i, str) for i in raw
    ):
        items = list(raw)
    else:
        raise exception.InvalidRequirement(
            key=PREFIX + key,
            reason="value must be a string or strings, not %s"
            % type(raw).__name__,
        )
    size = sum(len(i) for i in items)
    if size > MAX_VALUE_CHARS:
        raise exception.InvalidRequirement(
            key=PREFIX + key,
            reason="value of %d characters is longer than %d"
            % (size, MAX_VALUE_CHARS),
        )
    out = [v.strip() for item in items for v in item.split(",")]
    if len(out) > MAX_ITEMS:
        raise exception.InvalidRequirement(
            key=PREFIX + key,
            reason="%d items, at most %d" % (len(out), MAX_ITEMS),
        )
    if not out or any(not v for v in out):
        raise exception.InvalidRequirement(
            key=PREFIX + key, reason="empty value"
        )
    return out


def _one(key: str, raw: RawValue) -> str:
    values = _values(key, raw)
    if len(values) != 1:
        raise exception.InvalidRequirement(
            key=PREFIX + key, reason="expects exactly one value"
        )
    return values[0]


def _names(key: str, raw: RawValue) -> frozenset[str]:
    values = _values(key, raw)
    for v in values:
        if not _NAME.fullmatch(v):
            raise exception.InvalidRequirement(
                key=PREFIX + key, reason="%s is not a valid name" % shown(v)
            )
    return frozenset(values)


def parse_bool(key: str, raw: RawValue) -> bool:
    value = _one(key, raw).lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise exception.InvalidRequirement(
        key=PREFIX + key, reason="%s is not true or false" % shown(value)
    )


def parse_distance(key: str, raw: RawValue) -> int:
    value = _one(key, raw)
    # ASCII digits only: str.isdigit() and int() accept other scripts.
    if not _DISTANCE.fullmatch(value):
        raise exception.InvalidRequirement(
            key=PREFIX + key,
            reason="%s is not an integer from 0 to 999999" % shown(value),
        )
    return int(value)


def normalize_key(key: str) -> str:
    """Return the vocabulary key for ``key`` (with or without prefix).

    :raises InvalidRequirement: the key is not part of the vocabulary.
    """
    if len(key) > MAX_KEY_CHARS:
        raise exception.InvalidRequirement(
            key=shown_key(key), reason="key longer than %d" % MAX_KEY_CHARS
        )
    bare = key[len(PREFIX) :] if key.startswith(PREFIX) else key
    bare = ALIASES.get(bare, bare)
    if bare in KEYS:
        return bare
    if bare.startswith(CAPABILITY) and _CAP_KEY.fullmatch(
        bare[len(CAPABILITY) :]
    ):
        return bare
    raise exception.InvalidRequirement(
        key=shown_key(PREFIX + bare), reason="unknown acaas requirement"
    )


def parse(
    values: Mapping[str, RawValue], allow_reference: bool = True
) -> Requirements:
    """Validate one source of requirements.

    :param values: keys with or without the ``acaas:`` prefix; values are
        strings or lists of strings (nova's API coerces hint values).
    :param allow_reference: whether ``requirement`` may appear (hints only).
    :raises InvalidRequirement: naming the first offending key.
    """
    fields: dict[str, object] = {}
    caps: dict[str, str] = {}
    locations: frozenset[str] | None = None
    distance: int | None = None
    seen: set[str] = set()
    for raw_key in sorted(values):
        key = normalize_key(raw_key)
        if key in seen:
            raise exception.InvalidRequirement(
                key=PREFIX + key, reason="given twice (under two spellings)"
            )
        seen.add(key)
        raw = values[raw_key]
        if key.startswith(CAPABILITY):
            caps[key[len(CAPABILITY) :]] = _one(key, raw)
        elif key == "location":
            locations = _names(key, raw)
        elif key == "max_distance":
            distance = parse_distance(key, raw)
        elif key == "whitelist":
            fields["whitelists"] = _names(key, raw)
        elif key in (
            "exclude_users",
            "exclude_projects",
            "domain_trust",
            "backup_trust",
        ):
            fields[key] = _names(key, raw)
        elif key == "isolation":
            value = _one(key, raw).lower()
            if value not in ISOLATIONS:
                raise exception.InvalidRequirement(
                    key=PREFIX + key,
                    reason="%s is not one of exclusive, shared" % shown(value),
                )
            fields["isolation"] = value
        elif key == "allow_emergency":
            fields["allow_emergency"] = parse_bool(key, raw)
        elif key == "requirement":
            if not allow_reference:
                raise exception.InvalidRequirement(
                    key=PREFIX + key, reason="allowed only as a hint"
                )
            fields["requirement"] = _one(key, raw)
            _names(key, raw)
    if distance is not None and locations is None:
        raise exception.InvalidRequirement(
            key=PREFIX + "max_distance", reason="needs acaas:location"
        )
    if locations is not None:
        fields["location_rules"] = (LocationRule(locations, distance or 0),)
    if caps:
        fields["capabilities"] = tuple(sorted(caps.items()))
    return Requirements(**fields)  # type: ignore[arg-type]


def acaas_items(
    source: Mapping[str, RawValue] | None,
) -> dict[str, RawValue]:
    """The ``acaas:`` entries of hints or extra specs, other keys dropped.

    Keys that are not strings cannot be ours and are dropped too.
    """
    if not source:
        return {}
    return {
        k: v
        for k, v in source.items()
        if isinstance(k, str) and k.startswith(PREFIX)
    }


def describe(reqs: Requirements) -> str:
    """One line naming the effective requirements, for logs and explain."""
    parts = []
    for rule in reqs.location_rules:
        text = "location=" + ",".join(sorted(rule.locations))
        if rule.max_distance:
            text += "(+%d)" % rule.max_distance
        parts.append(text)
    for label, items in (
        ("whitelist", reqs.whitelists),
        ("exclude_users", reqs.exclude_users),
        ("exclude_projects", reqs.exclude_projects),
        ("domain_trust", reqs.domain_trust),
        ("backup_trust", reqs.backup_trust),
    ):
        if items:
            parts.append("%s=%s" % (label, ",".join(sorted(items))))
    if reqs.exclusive:
        parts.append("isolation=exclusive")
    if reqs.emergency_ok:
        parts.append("allow_emergency=true")
    parts.extend("capability:%s=%s" % kv for kv in reqs.capabilities)
    return " ".join(parts) or "none"
