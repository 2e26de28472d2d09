"""Ini editing with devstack's semantics, for the plugin test's stand-ins.

``python devstack_ini.py OP FILE SECTION OPTION [VALUE...]`` with OP one of
``set`` (one ``option = value`` line, replacing every earlier one),
``set-multi`` (one line per value), ``get`` (the last value: what
oslo.config reads for a single-valued option), ``get-multi`` (every value,
space-separated), ``comment`` and ``has`` (exit 1 if absent).  Files keep
their order, comments and repeated options, as devstack's sed-based
functions do; a missing file or section is created.
"""

import re
import sys

SECTION = re.compile(r"^\[(?P<name>[^\]]+)\]\s*$")


def _option(line: str) -> tuple[str, str] | None:
    if line.lstrip().startswith(("#", ";")) or "=" not in line:
        return None
    key, _, value = line.partition("=")
    return key.strip(), value.strip()


def _read(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def _span(lines: list[str], section: str) -> tuple[int, int] | None:
    """(header index, end index) of a section, or None."""
    start = None
    for i, line in enumerate(lines):
        m = SECTION.match(line)
        if m and start is not None:
            return start, i
        if m and m.group("name") == section:
            start = i
    return None if start is None else (start, len(lines))


def _values(lines, section, option) -> list[str]:
    span = _span(lines, section)
    if span is None:
        return []
    out = []
    for line in lines[span[0] + 1 : span[1]]:
        kv = _option(line)
        if kv and kv[0] == option:
            out.append(kv[1])
    return out


def _set(lines, section, option, values) -> list[str]:
    span = _span(lines, section)
    if span is None:
        if lines and lines[-1].strip():
            lines.append("")
        lines.append("[%s]" % section)
        span = (len(lines) - 1, len(lines))
    start, end = span
    body = lines[start + 1 : end]
    new = ["%s = %s" % (option, v) for v in values]
    kept, placed = [], False
    for line in body:
        kv = _option(line)
        if kv and kv[0] == option:
            if not placed:
                kept.extend(new)
                placed = True
            continue
        kept.append(line)
    if not placed:
        kept[0:0] = new
    return lines[: start + 1] + kept + lines[end:]


def main(argv: list[str]) -> int:
    op, path, section, option, *values = argv
    lines = _read(path)
    if op == "get":
        found = _values(lines, section, option)
        print(found[-1] if found else "")
        return 0
    if op == "get-multi":
        print(" ".join(_values(lines, section, option)))
        return 0
    if op == "has":
        return 0 if _values(lines, section, option) else 1
    if op == "set":
        lines = _set(lines, section, option, [" ".join(values)])
    elif op == "set-multi":
        lines = _set(lines, section, option, values)
    elif op == "comment":
        span = _span(lines, section)
        if span is not None:
            for i in range(span[0] + 1, span[1]):
                kv = _option(lines[i])
                if kv and kv[0] == option:
                    lines[i] = "#" + lines[i]
    else:
        print("unknown operation %s" % op, file=sys.stderr)
        return 2
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
