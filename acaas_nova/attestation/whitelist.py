"""White-lists: our JSON format, its strict validation, and generation.

A white-list is the chapter's set of known-good measurements of a *good*
platform (§12.4.2).  The document (``docs/attestation.rst`` has an
example)::

    {"name": "compute-ubuntu", "version": "2026.11",
     "description": "...",
     "digests": {"/usr/bin/python3.11": ["sha256:<hex>", ...], ...},
     "excludes": ["/var/log/*", ...],
     "boot_aggregates": ["sha256:<hex>", ...],
     "boot_configs": [{"sha256": {"0": "<hex>", ..., "7": "<hex>"}}, ...]}

Only ``name`` and ``version`` are required besides at least one of
``boot_aggregates`` and ``boot_configs`` (a white-list must pin the boot
state).  Unknown keys are errors.  Hex is normalised to lower case.
Matching lives in :mod:`acaas_nova.attestation.whitelist_eval`.  Pure:
standard library only.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from acaas_nova.attestation import ima
from acaas_nova.attestation import ima_replay
from acaas_nova.attestation import ima_template
from acaas_nova.exception import Invalid

BOOT_PCRS = tuple(range(8))
#: A boot configuration pins PCRs 0-7, or 0-9 (8 and 9: kernel, initrd and
#: command line under GRUB/systemd-boot).  Without boot_aggregates (which
#: cover 0-9) a white-list must pin 0-9 in every configuration.
FULL_BOOT_PCRS = tuple(range(10))
#: Largest white-list document accepted (text or bytes), before parsing.
MAX_DOCUMENT = 16 << 20
#: Paths whose files are executed or loaded: an exclude pattern may not
#: cover any of them (an excluded binary would run unmeasured-by-policy).
EXECUTABLE_PROBES = (
    "/usr/bin/x",
    "/bin/x",
    "/sbin/x",
    "/usr/sbin/x",
    "/usr/local/bin/x",
    "/usr/local/sbin/x",
    "/usr/libexec/x",
    "/usr/lib/x.so",
    "/usr/lib64/x.so",
    "/lib/x.so",
    "/lib64/x.so",
    "/usr/lib/modules/x.ko",
    "/lib/modules/x.ko",
    "/boot/vmlinuz",
    "/opt/x/bin/x",
)
#: Paths of unrelated kinds; a pattern matching all of them matches
#: "everything".
ANY_PATH_PROBES = ("/", "/a", "/etc/shadow", "/a/b/c", "/root/.ssh/x")
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
_KEYS = frozenset(
    "name version description digests excludes boot_aggregates "
    "boot_configs".split()
)


@dataclass(frozen=True)
class Whitelist:
    """A validated white-list (build it with :func:`load` or generate)."""

    name: str
    version: str
    description: str
    digests: Mapping[str, frozenset[str]]
    excludes: tuple[str, ...]
    boot_aggregates: frozenset[str]
    boot_configs: tuple[Mapping[str, Mapping[int, bytes]], ...]
    #: SHA-256 of the canonical JSON document: identifies the content.
    fingerprint: str = field(default="", init=False, compare=False)
    _exclude_re: Any = field(
        default=None, init=False, compare=False, repr=False
    )

    def __post_init__(self):
        # Derived once; the instance is frozen, hence object.__setattr__.
        regex = None
        if self.excludes:
            regex = re.compile(
                "|".join(pattern_regex(p) for p in self.excludes)
            )
        object.__setattr__(self, "_exclude_re", regex)
        canonical = json.dumps(self.to_dict(), sort_keys=True)
        object.__setattr__(
            self, "fingerprint", hashlib.sha256(canonical.encode()).hexdigest()
        )

    def excluded(self, path: str) -> bool:
        """Whether ``path`` matches an exclude pattern (``*`` stops at /,
        ``**`` does not; see :func:`pattern_regex`)."""
        return self._exclude_re is not None and bool(
            self._exclude_re.match(path)
        )

    def to_dict(self) -> dict[str, Any]:
        """The document, canonical (sorted lists, lower-case hex)."""
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "digests": {p: sorted(d) for p, d in sorted(self.digests.items())},
            "excludes": list(self.excludes),
            "boot_aggregates": sorted(self.boot_aggregates),
            "boot_configs": [
                {
                    bank: {str(i): v.hex() for i, v in sorted(pcrs.items())}
                    for bank, pcrs in sorted(config.items())
                }
                for config in self.boot_configs
            ],
        }


def pattern_regex(pattern: str) -> str:
    """Regex text of an exclude pattern, anchored at both ends.

    Patterns hold at most one ``*`` / ``**`` (checked on import), so the
    regex matches in time linear in the path's length.

    ``**`` matches anything (``/`` included), ``*`` any run of characters
    other than ``/``, ``?`` one character other than ``/``, ``[abc]`` /
    ``[!abc]`` one such character (never ``/``); all else is literal.
    """
    out = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                out.append(".*")
                i += 2
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end]
                negate = body.startswith("!")
                body = body[1:] if negate else body
                chars = "".join(
                    "\\" + ch if ch in "\\]^[" else ch for ch in body
                )
                out.append("[^/%s]" % chars if negate else "(?!/)[%s]" % chars)
                i = end + 1
                continue
        else:
            out.append(re.escape(c))
        i += 1
    return "(?s:%s)\\Z" % "".join(out)


def dump(whitelist: Whitelist) -> str:
    """Canonical JSON text of a white-list (stable across runs)."""
    return json.dumps(whitelist.to_dict(), sort_keys=True, indent=1)


def _fail(where: str, reason: str) -> Invalid:
    return Invalid(reason="white-list %s: %s" % (where, reason))


def _str(doc: Mapping, key: str, required: bool = True) -> str:
    value = doc.get(key, None if required else "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise _fail(
            key,
            "must be a non-empty string" if required else "must be a string",
        )
    for ch in value:
        # One printable line: it is shown in tables, logs and events.
        if ch in "\u2028\u2029" or unicodedata.category(ch) == "Cc":
            raise _fail(key, "contains control character U+%04X" % ord(ch))
    return value


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise _fail(where, "must be a list")
    return value


def _digest(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _fail(where, "must be a string '<algo>:<hex>'")
    algo, sep, hexdigest = value.partition(":")
    size = ima_template.DIGEST_SIZES.get(algo.lower())
    if not sep or size is None:
        raise _fail(
            where,
            "%r is not '<algo>:<hex>' with a known algorithm" % value[:80],
        )
    if len(hexdigest) != 2 * size or not _is_hex(hexdigest):
        raise _fail(
            where, "%s digest must be %d hex digits" % (algo, 2 * size)
        )
    return "%s:%s" % (algo.lower(), hexdigest.lower())


def _is_hex(value: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in value)


def _boot_config(value: Any, where: str) -> dict[str, dict[int, bytes]]:
    if not isinstance(value, dict) or not value:
        raise _fail(where, "must be a non-empty object {bank: {pcr: hex}}")
    config = {}
    for bank, pcrs in value.items():
        here = "%s[%r]" % (where, bank)
        if bank not in ima_replay.BANKS:
            raise _fail(
                here,
                "unknown PCR bank (use %s)"
                % ", ".join(sorted(ima_replay.BANKS)),
            )
        if not isinstance(pcrs, dict) or set(pcrs) not in (
            {str(i) for i in BOOT_PCRS},
            {str(i) for i in FULL_BOOT_PCRS},
        ):
            raise _fail(
                here, "must map each of PCR '0'..'7' (or '0'..'9') to hex"
            )
        size = ima_replay.BANKS[bank]
        values = {}
        for index, hexvalue in pcrs.items():
            if (
                not isinstance(hexvalue, str)
                or len(hexvalue) != 2 * size
                or not _is_hex(hexvalue)
            ):
                raise _fail(
                    "%s[%r]" % (here, index),
                    "must be %d hex digits" % (2 * size),
                )
            values[int(index)] = bytes.fromhex(hexvalue)
        config[bank] = values
    return config


def load(document: Mapping[str, Any] | str | bytes) -> Whitelist:
    """Validate a white-list document (parsed or JSON text).

    Raises :class:`acaas_nova.exception.Invalid` naming the bad field.
    """
    if isinstance(document, str | bytes | bytearray):
        if len(document) > MAX_DOCUMENT:
            raise _fail("document", "larger than %d bytes" % MAX_DOCUMENT)
        try:
            document = json.loads(document)
        except (ValueError, RecursionError) as exc:
            raise _fail("document", "not JSON: %s" % exc) from None
    if not isinstance(document, dict):
        raise _fail("document", "must be a JSON object")
    unknown = sorted(str(k) for k in set(document) - _KEYS)
    if unknown:
        raise _fail(unknown[0], "unknown field")
    name = _str(document, "name")
    if not _NAME_RE.match(name):
        raise _fail(
            "name",
            "%r must be 1-64 of A-Z a-z 0-9 . _ - "
            "starting with a letter or digit" % name[:80],
        )
    version = _str(document, "version")
    if len(version) > 64:
        raise _fail("version", "longer than 64 characters")
    description = _str(document, "description", required=False)
    raw_digests = document.get("digests", {})
    if not isinstance(raw_digests, dict):
        raise _fail("digests", "must be an object {path: [digest, ...]}")
    digests = {}
    for path, values in raw_digests.items():
        where = "digests[%r]" % (path[:80] if isinstance(path, str) else path)
        if not isinstance(path, str) or not path:
            raise _fail(where, "path must be a non-empty string")
        values = _list(values, where)
        if not values:
            raise _fail(where, "must list at least one digest")
        digests[path] = frozenset(
            _digest(v, "%s[%d]" % (where, i)) for i, v in enumerate(values)
        )
    excludes = _list(document.get("excludes", []), "excludes")
    for i, pattern in enumerate(excludes):
        if not isinstance(pattern, str) or not pattern:
            raise _fail("excludes[%d]" % i, "must be a non-empty string")
        _check_exclude(pattern, "excludes[%d]" % i, digests)
    aggregates = _list(document.get("boot_aggregates", []), "boot_aggregates")
    configs = _list(document.get("boot_configs", []), "boot_configs")
    if not aggregates and not configs:
        raise _fail(
            "boot_aggregates",
            "a white-list needs boot_aggregates "
            "or boot_configs to approve the boot state",
        )
    boot_configs = tuple(
        _boot_config(c, "boot_configs[%d]" % i) for i, c in enumerate(configs)
    )
    if not aggregates:
        for i, config in enumerate(boot_configs):
            if any(set(v) != set(FULL_BOOT_PCRS) for v in config.values()):
                raise _fail(
                    "boot_configs[%d]" % i,
                    "without boot_aggregates a boot configuration must pin "
                    "PCRs 0-9",
                )
    return Whitelist(
        name,
        version,
        description,
        digests,
        tuple(excludes),
        frozenset(
            _digest(v, "boot_aggregates[%d]" % i)
            for i, v in enumerate(aggregates)
        ),
        boot_configs,
    )


def _check_exclude(pattern: str, where: str, digests) -> None:
    """Refuse an exclude pattern that would hide what must be judged."""
    if len(pattern) > 1024:
        raise _fail(where, "longer than 1024 characters")
    stars = re.findall(r"\*+", pattern)
    if len(stars) > 1 or any(len(run) > 2 for run in stars):
        # Two wildcards make matching a long path quadratic or worse
        # (a node chooses its paths): one '*' or '**' per pattern.
        raise _fail(
            where,
            "%r: at most one '*' or '**' per pattern (write several "
            "patterns)" % pattern[:80],
        )
    try:
        regex = re.compile(pattern_regex(pattern))
    except re.error as exc:
        raise _fail(
            where, "%r is not a valid pattern: %s" % (pattern[:80], exc)
        ) from None
    if all(regex.match(p) for p in ANY_PATH_PROBES):
        raise _fail(where, "%r matches every path" % pattern[:80])
    for probe in EXECUTABLE_PROBES:
        if regex.match(probe):
            raise _fail(
                where,
                "%r covers executables and libraries (e.g. %s); "
                "executed files are never excluded" % (pattern[:80], probe),
            )
    for path in digests:
        if regex.match(path):
            raise _fail(
                where,
                "%r covers %r, which the white-list lists with digests"
                % (pattern[:80], path[:80]),
            )


def generate(
    name: str,
    version: str,
    measurement_list: str | bytes | Iterable[ima.Entry],
    pcr_values: Mapping[str, Mapping[int, bytes]],
    description: str = "",
    excludes: Iterable[str] = (),
) -> Whitelist:
    """Build a white-list from a known-good platform's list and PCRs.

    Every measured (path, digest) is allowed; the log's boot_aggregate and
    the PCR 0-7 values in ``pcr_values`` (one configuration, seen in each
    bank given) are approved.  If a bank also carries PCR 10, the list
    must replay to it (entries beyond it are ignored); boot_aggregate is
    checked when its bank is present.
    Raises Invalid, or an attestation error if the list is inconsistent.
    """
    if isinstance(measurement_list, str | bytes):
        entries = _verified_entries(measurement_list, pcr_values)
    else:
        entries = list(measurement_list)
    if not entries or entries[0].path != ima.BOOT_AGGREGATE:
        raise _fail("measurement list", "must start with boot_aggregate")
    digests: dict[str, set[str]] = {}
    for entry in entries[1:]:
        if not entry.violation:
            digests.setdefault(entry.path, set()).add(entry.digest)
    # One boot configuration, as seen in every bank measured.
    config = {
        bank: {str(i): pcrs[i].hex() for i in BOOT_PCRS}
        for bank, pcrs in sorted(pcr_values.items())
        if all(i in pcrs for i in BOOT_PCRS)
    }
    configs = [config] if config else []
    return load(
        {
            "name": name,
            "version": version,
            "description": description,
            "digests": {p: sorted(d) for p, d in digests.items()},
            "excludes": list(excludes),
            "boot_aggregates": [entries[0].digest],
            "boot_configs": configs,
        }
    )


def _verified_entries(text, pcr_values) -> list[ima.Entry]:
    for bank in ("sha256", "sha1", "sha384", "sha512"):
        if 10 in pcr_values.get(bank, {}):
            result = ima_replay.verify(
                text,
                pcr_values[bank][10],
                ima_replay.ImaState(bank=bank),
                boot_pcrs=pcr_values,
            )
            return list(result.accepted)
    return ima.parse(text)
