"""IMA runtime measurement list: line parsing.

Parses the ASCII list the kernel exposes in
``/sys/kernel/security/ima/ascii_runtime_measurements``, one entry a line::

    PCR TEMPLATE-HASH TEMPLATE-NAME FIELD...

for the templates ``ima``, ``ima-ng``, ``ima-sig`` and ``ima-buf``, and
recomputes each entry's template data the way the kernel does (see
:mod:`acaas_nova.attestation.ima_template`) to check its template hash.

Kernels since 3.13 write ``_`` for spaces in names, but logs from other
producers may carry spaces, so a name is everything up to the end of the
line (``ima-sig`` and ``ima-buf``: up to the last field).  The logged
template hash is always SHA-1; an all-zero one marks a violation, whose
template data cannot be checked.  Pure: standard library only.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from acaas_nova.attestation.errors import MalformedInput
from acaas_nova.attestation.errors import TemplateHashMismatch
from acaas_nova.attestation.ima_template import DIGEST_SIZES
from acaas_nova.attestation.ima_template import DNG_PREFIX as _DNG_PREFIX
from acaas_nova.attestation.ima_template import NAME_LEN_MAX
from acaas_nova.attestation.ima_template import ima_data
from acaas_nova.attestation.ima_template import ng_data
from acaas_nova.attestation.ima_template import u32 as _u32

TEMPLATES = ("ima", "ima-ng", "ima-sig", "ima-buf")
BOOT_AGGREGATE = "boot_aggregate"
ZERO_SHA1 = bytes(20)
_HEXCHARS = frozenset("0123456789abcdefABCDEF")
_sha1 = hashlib.sha1
_fromhex = bytes.fromhex
_new = tuple.__new__


class Entry(NamedTuple):
    """One parsed, self-consistent measurement list entry."""

    index: int  #: 0-based position of the entry in the whole log
    line: int  #: 1-based line number (``index + 1`` in a full log)
    pcr: int
    template_hash: bytes  #: SHA-1 of ``data`` (all zero for violations)
    template: str
    digest: str  #: ``"<algo>:<lowercase hex>"`` (``sha1:`` for ``ima``)
    path: str  #: file or buffer name (non-UTF-8 bytes surrogate-escaped)
    sig: str  #: lowercase hex (``ima-sig``), else ""
    buf: str  #: lowercase hex (``ima-buf``), else ""
    data: bytes  #: the template data the kernel hashed
    raw: str  #: the line as read, to detect a log changed under us

    @property
    def violation(self) -> bool:
        return self.template_hash == ZERO_SHA1


def _bad(line: int, reason: str) -> MalformedInput:
    exc = MalformedInput(
        what="IMA measurement list line %d" % line, reason=reason
    )
    exc.line = line
    return exc


def _hex(token: str, line: int, what: str) -> bytes:
    try:
        value = bytes.fromhex(token)
    except ValueError:
        raise _bad(line, "%s is not hexadecimal" % what) from None
    # fromhex skips whitespace; a token must be nothing but hex digits.
    if len(value) * 2 != len(token):
        raise _bad(line, "%s is not hexadecimal" % what)
    return value


def _name(path: str, line: int) -> bytes:
    if not path:
        raise _bad(line, "empty file name")
    try:
        return path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise _bad(line, "file name is not encodable") from None


def _digest_ng(token: str, line: int) -> tuple[str, bytes, bytes]:
    """Split ``algo:hex`` into (canonical text, d-ng field, raw digest)."""
    algo, sep, hexdigest = token.partition(":")
    size = DIGEST_SIZES.get(algo)
    if not sep or size is None:
        raise _bad(
            line,
            "digest %r is not <algo>:<hex> with a known "
            "algorithm" % token[:80],
        )
    raw = _hex(hexdigest, line, "digest")
    if len(raw) != size:
        raise _bad(
            line,
            "%s digest has %d bytes, expected %d" % (algo, len(raw), size),
        )
    return algo + ":" + raw.hex(), algo.encode() + b":\0" + raw, raw


def _is_hex(token: str) -> bool:
    return bool(token) and len(token) % 2 == 0 and _HEXCHARS.issuperset(token)


def _sig_candidates(rest: str) -> list[tuple[str, str]]:
    """Possible (name, signature) splits of an ima-sig tail, best first.

    The kernel always writes a space before the (possibly empty) signature,
    but a producer may have stripped trailing blanks, and a name may hold
    spaces; the template hash decides between the readings.
    """
    head, sep, tail = rest.rpartition(" ")
    if not sep:
        return [(rest, "")]
    if not tail:
        return [(head, ""), (rest, "")] if head else [(rest, "")]
    if _is_hex(tail):
        return [(head, tail), (rest, "")]
    return [(rest, "")]


def parse_entry(
    line: str, index: int, lineno: int, check: bool = True
) -> Entry:
    """Parse one line; with ``check`` verify its template hash.

    Raises MalformedInput (with ``line``) or TemplateHashMismatch.
    """
    index, lineno = entry_number(index), entry_number(lineno)
    if not isinstance(line, str):
        raise _bad(lineno, "expected text, got %s" % type(line).__name__)
    return _parse_general(line.split(" ", 4), line, index, lineno, check)


def parse_lines(
    lines: list[str], first_entry: int = 0, check: bool = True
) -> list[Entry]:
    """Parse lines of entries ``first_entry``, ``first_entry + 1``, ...

    Same result as :func:`parse_entry` on each line, faster: the common
    well-formed ima-ng line into PCR 10 is parsed inline, anything else
    by the general parser, which also says what is wrong.
    """
    first_entry = entry_number(first_entry)
    if not isinstance(lines, list | tuple) or not all(
        isinstance(line, str) for line in lines
    ):
        raise MalformedInput(
            what="IMA measurement list", reason="expected a list of lines"
        )
    out: list[Entry] = []
    append = out.append
    get = _DNG_PREFIX.get
    join = b"".join
    index = first_entry - 1
    for line in lines:
        index += 1
        parts = line.split(" ", 4)
        if len(parts) == 5 and parts[2] == "ima-ng" and parts[0] == "10":
            _, th_s, _, dig, rest = parts
            algo, _, hx = dig.partition(":")
            prefix = get(algo)
            if prefix is not None and len(th_s) == 40 and rest:
                try:
                    th = _fromhex(th_s)
                    raw = _fromhex(hx)
                    name = rest.encode()  # surrogates: general parser
                except (ValueError, UnicodeEncodeError):
                    th = raw = name = b""
                if len(th) == 20 and len(raw) == prefix[1]:
                    data = join(
                        (prefix[0], raw, _u32(len(name) + 1), name, b"\0")
                    )
                    if (
                        check
                        and th != ZERO_SHA1
                        and _sha1(data).digest() != th
                    ):
                        raise TemplateHashMismatch(
                            entry=index,
                            reason="template hash does not match its fields "
                            "(line %d)" % (index + 1),
                        )
                    append(
                        _new(
                            Entry,
                            (
                                index,
                                index + 1,
                                10,
                                th,
                                "ima-ng",
                                dig.lower(),
                                rest,
                                "",
                                "",
                                data,
                                line,
                            ),
                        )
                    )
                    continue
        append(_parse_general(parts, line, index, index + 1, check))
    return out


def _parse_general(parts, line, index, lineno, check) -> Entry:
    if len(parts) != 5:
        raise _bad(
            lineno,
            "expected 'PCR TEMPLATE-HASH TEMPLATE FIELDS', "
            "got %d fields" % len(parts),
        )
    pcr_s, th_s, template, dig, rest = parts
    if not (pcr_s.isascii() and pcr_s.isdigit() and len(pcr_s) <= 2):
        raise _bad(lineno, "PCR index %r is not a number" % pcr_s[:20])
    pcr = int(pcr_s)
    if pcr > 23:
        raise _bad(lineno, "PCR index %d out of range 0-23" % pcr)
    th = _hex(th_s, lineno, "template hash")
    if len(th) != 20:
        raise _bad(lineno, "template hash has %d bytes, expected 20" % len(th))
    sig = buf = ""
    if template == "ima-ng":
        digest, d_ng, _ = _digest_ng(dig, lineno)
        candidates = [(rest, "")]
    elif template == "ima-sig":
        digest, d_ng, _ = _digest_ng(dig, lineno)
        candidates = _sig_candidates(rest)
    elif template == "ima-buf":
        digest, d_ng, raw = _digest_ng(dig, lineno)
        path, sep, buf = rest.rpartition(" ")
        if not sep:
            raise _bad(lineno, "ima-buf entry has no buffer field")
        bufb = _hex(buf, lineno, "buffer") if buf else b""
        buf = bufb.hex()
        data = ng_data(d_ng, _name(path, lineno), bufb)
        algo = digest.partition(":")[0]
        if (
            check
            and th != ZERO_SHA1
            and algo in hashlib.algorithms_available
            and hashlib.new(algo, bufb).digest() != raw
        ):
            raise TemplateHashMismatch(
                entry=index, reason="buffer does not match its digest"
            )
        candidates = None
    elif template == "ima":
        raw = _hex(dig, lineno, "digest")
        if len(raw) != 20:
            raise _bad(
                lineno, "ima digest has %d bytes, expected 20" % len(raw)
            )
        digest = "sha1:" + raw.hex()
        name = _name(rest, lineno)
        if len(name) > NAME_LEN_MAX:
            raise _bad(
                lineno, "ima file name longer than %d bytes" % NAME_LEN_MAX
            )
        path, data, candidates = rest, ima_data(raw, name), None
    else:
        raise _bad(lineno, "unsupported template %r" % template[:40])
    if candidates is not None:
        for path, sig in candidates:
            sigb = _hex(sig, lineno, "signature") if sig else b""
            extra = (sigb,) if template == "ima-sig" else ()
            data = ng_data(d_ng, _name(path, lineno), *extra)
            if not check or th == ZERO_SHA1 or _sha1(data).digest() == th:
                break
    if check and th != ZERO_SHA1 and _sha1(data).digest() != th:
        raise TemplateHashMismatch(
            entry=index,
            reason="template hash does not match its fields "
            "(line %d)" % lineno,
        )
    return Entry(
        index,
        lineno,
        pcr,
        th,
        template,
        digest,
        path,
        sig.lower(),
        buf,
        data,
        line,
    )


def entry_number(value) -> int:
    """An entry index (0 or more), else MalformedInput."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedInput(
            what="IMA entry number", reason="%r is not an index" % (value,)
        )
    return value


def split_lines(text: str | bytes) -> list[str]:
    """Lines of a measurement list (bytes decoded losslessly)."""
    if isinstance(text, bytes | bytearray | memoryview):
        text = bytes(text).decode("utf-8", "surrogateescape")
    elif not isinstance(text, str):
        raise MalformedInput(
            what="IMA measurement list",
            reason="expected text, got %s" % type(text).__name__,
        )
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def parse(
    text: str | bytes, first_entry: int = 0, check: bool = True
) -> list[Entry]:
    """Parse a list whose first line is entry ``first_entry`` of the log.

    Raises MalformedInput for the first malformed line (``exc.line`` is its
    line number in the whole log) or TemplateHashMismatch.
    """
    return parse_lines(split_lines(text), first_entry, check)


def lint(text: str | bytes, first_entry: int = 0) -> list[MalformedInput]:
    """Every malformed line of a list (one error each), for operators."""
    errors = []
    first_entry = entry_number(first_entry)
    for offset, line in enumerate(split_lines(text)):
        index = first_entry + offset
        try:
            parse_entry(line, index, index + 1, check=False)
        except MalformedInput as exc:
            errors.append(exc)
    return errors
