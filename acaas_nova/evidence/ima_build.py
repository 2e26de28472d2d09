"""Build IMA measurement lists the way the kernel writes them.

For tests, benchmarks and the functional tests that extend a real (software)
TPM's PCR 10 as the kernel would: :func:`format_entry` gives one ASCII line
and :func:`entry_hashes` its template hash and the extend value per bank;
:class:`LogBuilder` keeps a whole list with its expected PCR 10 values.
Pure: standard library only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from collections.abc import Mapping

from acaas_nova.attestation import ima
from acaas_nova.attestation import ima_replay
from acaas_nova.attestation import ima_template


def template_data(
    template: str, digest: str, path: str, sig: str = "", buf: str = ""
) -> bytes:
    """Template data of an entry (digest ``"algo:hex"``, sig/buf hex)."""
    name = path.encode("utf-8", "surrogateescape")
    algo, _, hexdigest = digest.rpartition(":")
    raw = bytes.fromhex(hexdigest)
    if template == "ima":
        return ima_template.ima_data(raw, name)
    d_ng = algo.encode() + b":\0" + raw
    if template == "ima-ng":
        return ima_template.ng_data(d_ng, name)
    if template == "ima-sig":
        return ima_template.ng_data(d_ng, name, bytes.fromhex(sig))
    if template == "ima-buf":
        return ima_template.ng_data(d_ng, name, bytes.fromhex(buf))
    raise ValueError("unknown template %r" % template)


def entry_hashes(
    data: bytes | None, banks: Iterable[str] = ("sha1", "sha256")
) -> tuple[bytes, dict[str, bytes]]:
    """(logged template hash, {bank: PCR extend value}) of template data.

    ``data=None`` is a violation: zero template hash, extends of 0xFF.
    """
    if data is None:
        return ima.ZERO_SHA1, {b: b"\xff" * ima_replay.BANKS[b] for b in banks}
    return hashlib.sha1(data).digest(), {
        b: hashlib.new(b, data).digest() for b in banks
    }


def line_hashes(
    line: str, banks: Iterable[str] = ("sha1", "sha256")
) -> tuple[bytes, dict[str, bytes]]:
    """(template hash, {bank: extend value}) of one list line (checked)."""
    entry = ima.parse_entry(line, 0, 1)
    return entry.template_hash, {
        b: ima_replay.extend_value(entry, b) for b in banks
    }


def format_entry(
    template: str,
    digest: str,
    path: str,
    *,
    sig: str = "",
    buf: str = "",
    pcr: int = 10,
    violation: bool = False,
) -> str:
    """One line as in ``ascii_runtime_measurements`` (no newline)."""
    data = template_data(template, digest, path, sig, buf)
    th, _ = entry_hashes(None if violation else data)
    if template == "ima":
        fields = [digest.rpartition(":")[2], path]
    else:
        fields = [digest, path]
        if template == "ima-sig":
            fields.append(sig)
        elif template == "ima-buf":
            fields.append(buf)
    return " ".join([str(pcr), th.hex(), template, *fields])


def file_digest(content: bytes, algo: str = "sha256") -> str:
    """``"algo:hex"`` of a file's content, as IMA measures it."""
    return "%s:%s" % (algo, hashlib.new(algo, content).hexdigest())


class LogBuilder:
    """A measurement list under construction, with PCR 10 per bank."""

    def __init__(self, banks: Iterable[str] = ("sha1", "sha256")):
        self.lines: list[str] = []
        self.extends: dict[str, list[bytes]] = {b: [] for b in banks}
        self.pcr10 = {b: bytes(ima_replay.BANKS[b]) for b in self.extends}

    def add(
        self,
        template: str,
        digest: str,
        path: str,
        *,
        sig: str = "",
        buf: str = "",
        violation: bool = False,
    ) -> str:
        """Append an entry; returns its line."""
        data = template_data(template, digest, path, sig, buf)
        line = format_entry(
            template, digest, path, sig=sig, buf=buf, violation=violation
        )
        _, values = entry_hashes(None if violation else data, self.extends)
        for bank, value in values.items():
            self.extends[bank].append(value)
            self.pcr10[bank] = ima_replay.extend(bank, self.pcr10[bank], value)
        self.lines.append(line)
        return line

    def add_boot_aggregate(
        self,
        pcrs: Mapping[str, Mapping[int, bytes]],
        algo: str = "sha256",
        template: str = "ima-ng",
    ) -> str:
        """Append the boot_aggregate entry computed from ``pcrs[algo]``."""
        value = ima_replay.boot_aggregate(algo, pcrs[algo])
        return self.add(
            template, "%s:%s" % (algo, value.hex()), ima.BOOT_AGGREGATE
        )

    def add_file(
        self,
        path: str,
        content: bytes,
        algo: str = "sha256",
        template: str = "ima-ng",
    ) -> str:
        """Append a measurement of a file with ``content``."""
        return self.add(template, file_digest(content, algo), path)

    def text(self, start: int = 0) -> str:
        """The list from entry ``start`` on, newline-terminated."""
        return "".join(line + "\n" for line in self.lines[start:])

    def __len__(self) -> int:
        return len(self.lines)


def pcrs_after(
    banks: Iterable[str], extends: Mapping[str, list[bytes]], count: int
) -> dict[str, bytes]:
    """PCR 10 per bank after the first ``count`` extends."""
    out = {}
    for bank in banks:
        pcr = bytes(ima_replay.BANKS[bank])
        for value in extends[bank][:count]:
            pcr = ima_replay.extend(bank, pcr, value)
        out[bank] = pcr
    return out
