"""Value types of requirement entries, and their validation (pure).

A requirement entry (the chapter's ``requirement_entries``) declares the
type of value a tenant may give for it.  Values are stored and passed as
strings (scheduler hints are strings); :func:`normalize` checks one against
its type and returns the canonical string form.
"""

from acaas_nova import exception

STRING = "string"
INTEGER = "integer"
BOOLEAN = "boolean"
LIST = "list"
EXCLUSIVE = "enum:exclusive"
KEYVALUE = "keyvalue"
VALUE_TYPES = (STRING, INTEGER, BOOLEAN, LIST, EXCLUSIVE, KEYVALUE)

_TRUE = ("true", "yes", "1", "on")
_FALSE = ("false", "no", "0", "off")


def parse_bool(key: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise exception.InvalidRequirement(
        key=key, reason="%r is not a boolean (true or false)" % value
    )


def parse_int(key: str, value: str) -> int:
    try:
        number = int(value.strip())
    except (ValueError, AttributeError):
        raise exception.InvalidRequirement(
            key=key, reason="%r is not an integer" % value
        ) from None
    if number < 0:
        raise exception.InvalidRequirement(
            key=key, reason="%d must not be negative" % number
        )
    return number


def parse_list(key: str, value) -> list[str]:
    """A comma-separated string (or a list of them) as a list of items."""
    parts = [value] if isinstance(value, str) else list(value)
    items = []
    for part in parts:
        if not isinstance(part, str):
            raise exception.InvalidRequirement(
                key=key, reason="%r is not a string" % (part,)
            )
        items.extend(item.strip() for item in part.split(","))
    if not items or any(not item for item in items):
        raise exception.InvalidRequirement(
            key=key, reason="empty item in list %r" % (value,)
        )
    return items


def split_key(key: str) -> tuple[str, str | None]:
    """``capability:gpu`` -> (capability, gpu); ``location`` -> (.., None)."""
    entry, sep, sub = key.partition(":")
    if sep and not sub:
        raise exception.InvalidRequirement(key=key, reason="empty sub-key")
    return entry, (sub if sep else None)


def normalize(key: str, value_type: str, value) -> str:
    """Validate ``value`` for an entry of ``value_type``; canonical string."""
    entry, sub = split_key(key)
    if (value_type == KEYVALUE) != (sub is not None):
        raise exception.InvalidRequirement(
            key=key,
            reason="use %s:<key>=<value>" % entry
            if value_type == KEYVALUE
            else "%s takes no sub-key" % entry,
        )
    if value_type == LIST:
        return ",".join(parse_list(key, value))
    if not isinstance(value, str):
        raise exception.InvalidRequirement(
            key=key, reason="%r is not a single value" % (value,)
        )
    if value_type == INTEGER:
        return str(parse_int(key, value))
    if value_type == BOOLEAN:
        return "true" if parse_bool(key, value) else "false"
    if value_type == EXCLUSIVE:
        if value.strip() != "exclusive":
            raise exception.InvalidRequirement(
                key=key, reason="%r is not 'exclusive'" % value
            )
        return "exclusive"
    if value_type in (STRING, KEYVALUE):
        if not value.strip():
            raise exception.InvalidRequirement(key=key, reason="empty value")
        return value.strip()
    raise exception.InvalidRequirement(
        key=key, reason="unknown value type %r" % value_type
    )
