"""An instance's effective requirements as stored for compliance.

The filter merges hints, the stored specification and flavor extra specs
once, when the server is scheduled; compliance must re-check exactly that
merged set for as long as the server runs, so it is stored with the
instance as a small JSON document.  :func:`loads` validates everything it
reads: a corrupt row gives :class:`~acaas_nova.exception.Invalid`, never a
half-built requirement set.  Pure: standard library and our own modules.
"""

import json

from acaas_nova import exception
from acaas_nova.scheduler import requirements as reqs_mod

#: Bumped when the document's shape changes.
VERSION = 1
MAX_BYTES = 64 * 1024


def dumps(reqs: reqs_mod.Requirements) -> str:
    doc = {
        "v": VERSION,
        "location_rules": [
            [sorted(rule.locations), rule.max_distance]
            for rule in reqs.location_rules
        ],
        "whitelists": sorted(reqs.whitelists),
        "exclude_users": sorted(reqs.exclude_users),
        "exclude_projects": sorted(reqs.exclude_projects),
        "isolation": reqs.isolation,
        "allow_emergency": reqs.allow_emergency,
        "capabilities": [list(pair) for pair in reqs.capabilities],
        "requirement": reqs.requirement,
        "domain_trust": sorted(reqs.domain_trust),
        "backup_trust": sorted(reqs.backup_trust),
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def _bad(what: str):
    return exception.Invalid(reason="stored requirements: %s" % what)


def _strings(doc, key) -> frozenset[str]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(
        isinstance(v, str) and v for v in value
    ):
        raise _bad("%s must be a list of names" % key)
    return frozenset(value)


def _optional(doc, key, kind):
    value = doc.get(key)
    if value is not None and not isinstance(value, kind):
        raise _bad("%s has the wrong type" % key)
    return value


def loads(text) -> reqs_mod.Requirements:
    """The requirement set of :func:`dumps`; empty text means none."""
    if text is None or text == "":
        return reqs_mod.EMPTY
    if not isinstance(text, str) or len(text) > MAX_BYTES:
        raise _bad("not a JSON text of at most %d bytes" % MAX_BYTES)
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise _bad("malformed JSON (%s)" % exc.msg) from None
    if not isinstance(doc, dict) or doc.get("v") != VERSION:
        raise _bad("not a version %d document" % VERSION)
    rules = []
    for item in doc.get("location_rules", []):
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not isinstance(item[0], list)
            or not item[0]
            or not all(isinstance(x, str) and x for x in item[0])
            or isinstance(item[1], bool)
            or not isinstance(item[1], int)
            or item[1] < 0
        ):
            raise _bad("malformed location rule")
        rules.append(reqs_mod.LocationRule(frozenset(item[0]), item[1]))
    caps = []
    for pair in doc.get("capabilities", []):
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(x, str) and x for x in pair)
        ):
            raise _bad("malformed capability")
        caps.append((pair[0], pair[1]))
    isolation = _optional(doc, "isolation", str)
    if isolation is not None and isolation not in reqs_mod.ISOLATIONS:
        raise _bad("unknown isolation %r" % isolation)
    return reqs_mod.Requirements(
        location_rules=tuple(rules),
        whitelists=_strings(doc, "whitelists"),
        exclude_users=_strings(doc, "exclude_users"),
        exclude_projects=_strings(doc, "exclude_projects"),
        isolation=isolation,
        allow_emergency=_optional(doc, "allow_emergency", bool),
        capabilities=tuple(caps),
        requirement=_optional(doc, "requirement", str),
        # Absent from documents written before these entries existed.
        domain_trust=_strings(doc, "domain_trust"),
        backup_trust=_strings(doc, "backup_trust"),
    )
