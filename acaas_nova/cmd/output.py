"""How acaas-manage prints results: tables for people, JSON for scripts.

Commands hand plain dicts (or records) to :class:`Output` and never print
themselves, so ``--format json`` covers every action the same way.
"""

import dataclasses
import datetime
import json
import sys

import prettytable

FORMATS = ("table", "json")


def plain(value):
    """A record (dataclass), datetime or container as JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
        }
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def cell(value) -> str:
    """One table cell: mappings as k=v, sequences comma-joined."""
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join("%s=%s" % kv for kv in sorted(value.items()))
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


class Output:
    """Print results in the chosen format to ``stream`` (stdout)."""

    def __init__(self, fmt: str = "table", stream=None):
        self.fmt = fmt
        self.stream = stream or sys.stdout

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")

    def _json(self, data) -> None:
        self._write(json.dumps(plain(data), indent=2, sort_keys=True))

    def rows(self, columns, items) -> None:
        """A list: ``columns`` are (header, key) pairs of each item dict."""
        items = [plain(item) for item in items]
        if self.fmt == "json":
            return self._json(items)
        table = prettytable.PrettyTable([header for header, _ in columns])
        table.align = "l"
        for item in items:
            table.add_row([cell(item.get(key)) for _, key in columns])
        self._write(table.get_string())

    def show(self, fields, item) -> None:
        """One object as Field/Value rows (``fields``: (label, key))."""
        item = plain(item)
        if self.fmt == "json":
            return self._json(item)
        table = prettytable.PrettyTable(["Field", "Value"])
        table.align = "l"
        for label, key in fields:
            table.add_row([label, cell(item.get(key))])
        self._write(table.get_string())

    def done(self, message: str, data) -> None:
        """A change: a sentence for people, the resulting data for JSON."""
        if self.fmt == "json":
            return self._json(data)
        self._write(message)

    def text(self, text: str) -> None:
        """A document printed as is in both formats (e.g. generated JSON)."""
        self._write(text.rstrip("\n"))
