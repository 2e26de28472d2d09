"""The shape shared by acaas-manage's command classes.

A category (``location``, ``domain`` ...) is one class deriving
:class:`Commands`.  Its ``add_actions`` classmethod wires each action
explicitly with :func:`action`; ``main`` later builds the class with a
context, the output and the configuration and calls the action's method.
"""

import argparse
import unicodedata

from acaas_nova import exception
from acaas_nova.attestation import registration
from acaas_nova.db import lookup

#: What an action needs before it runs (set by :func:`action`).
NEEDS_NOTHING = "nothing"  # no database at all
NEEDS_DB = "db"  # a reachable database, any schema version
NEEDS_SCHEMA = "schema"  # a database migrated to the code's head


class Commands:
    """Base of one category of acaas-manage."""

    #: One line shown in ``acaas-manage --help``.
    help = ""

    def __init__(self, context, out, conf):
        self.context = context
        self.out = out
        self.conf = conf

    @classmethod
    def add_actions(cls, actions) -> None:
        """Add this category's actions to ``actions`` (a subparsers)."""
        raise NotImplementedError


def action(
    actions,
    cls,
    method: str,
    help: str,
    name: str | None = None,
    needs: str = NEEDS_SCHEMA,
) -> argparse.ArgumentParser:
    """Add action ``name`` (default: ``method``) running ``cls.method``."""
    parser = actions.add_parser(name or method, help=help, description=help)
    parser.set_defaults(command_class=cls, command=method, needs=needs)
    return parser


def parse_pairs(items, what: str = "key=value") -> dict[str, str]:
    """``["k=v", ...]`` as a dict; malformed or repeated keys are Invalid."""
    result: dict[str, str] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise exception.Invalid(
                reason="malformed %s %r: expected %s with a non-empty key "
                "and value" % (what, item, what)
            )
        if key in result:
            raise exception.Invalid(reason="%s given twice" % key)
        result[key] = value
    return result


def split_host(ident: str) -> tuple[str, str | None]:
    """``host`` or ``host:hypervisor_hostname`` as (host, hypervisor)."""
    return lookup.split_host(ident)


def integer(text: str) -> int:
    """argparse type: an integer (the DB API judges its range)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            "%r is not an integer" % text
        ) from None


def fingerprint(text: str) -> str:
    """argparse type: an EK fingerprint (64 hex digits, as ``host show``
    prints it; colons and upper case accepted)."""
    try:
        return registration.parse_fingerprint(text)
    except exception.Invalid as exc:
        raise argparse.ArgumentTypeError(exc.kwargs["reason"]) from None


#: Line and paragraph separators: newlines too, though not category Cc.
_LINE_BREAKS = frozenset("\u2028\u2029")


def check_printable(what: str, value: str) -> None:
    """Refuse a name or value holding a control character or a newline:
    it would forge lines in tables, logs and events."""
    for ch in value:
        if ch in _LINE_BREAKS or unicodedata.category(ch) == "Cc":
            raise exception.Invalid(
                reason="%s %r contains control character U+%04X; names "
                "and values must be printable text on one line"
                % (what, value[:80], ord(ch))
            )


def check_arguments(args) -> None:
    """:func:`check_printable` on every string argument of ``args``."""
    for dest, value in sorted(vars(args).items()):
        what = "argument %s" % dest.replace("_", "-")
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if isinstance(item, str):
                check_printable(what, item)


def read_file(path: str, what: str, limit: int) -> str:
    """The UTF-8 text of ``path``, refused beyond ``limit`` bytes.

    At most ``limit + 1`` bytes are read, so ``/dev/zero`` or a huge file
    costs no more than the limit.
    """
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise exception.Invalid(
            reason="cannot read %s %s: %s" % (what, path, exc.strerror or exc)
        ) from None
    if len(data) > limit:
        raise exception.Invalid(
            reason="%s %s is larger than %d bytes" % (what, path, limit)
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise exception.Invalid(
            reason="cannot read %s %s: not UTF-8 text (%s)"
            % (what, path, exc.reason)
        ) from None
