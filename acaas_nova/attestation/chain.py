"""Chain-of-trust values: RCoT of a node, DCoT of a domain, CDCoT.

All three are SHA-256 digests, in lower-case hex, over a domain-separated,
length-prefixed encoding (``F(x) = u32be(len(x)) || x``, text as UTF-8,
integers as ``u32be``), so that no two different inputs encode alike:

* ``RCoT = SHA-256(F("acaas-nova RCoT v1") || F(bank) || u32(8) ||
  u32(i) || F(PCR_i)  for i = 0..7 || WL(node's white-lists) || F(AK name))``
  -- defined only for a trusted node that satisfies at least one
  white-list.  It changes whenever the node's boot state, its satisfied
  white-lists or its attestation key change.
* A domain's *trust class* is what every member guarantees: the domain's
  declared capabilities and the white-lists that every member satisfies
  (the intersection).  ``DCoT = SHA-256(F("acaas-nova DCoT v1") ||
  CAPS(capabilities) || WL(common white-lists))`` -- defined only when the
  domain has members, each has an RCoT and offers every declared
  capability with the declared value, and the common set is not empty
  (the members *agree*).  Member-specific values (PCRs, AKs, domain name)
  are left out on purpose: a backup domain of the same class has the same
  DCoT (§12.3), and a node joining or leaving does not change it.
* ``CDCoT = SHA-256(F("acaas-nova CDCoT v1") || CAPS || WL(intersection
  of the domains' common white-lists))`` for a domain and its collaborating
  domains -- defined only when every DCoT is defined, all declare the same
  capabilities and the intersection is not empty (they are *compatible*):
  what a VM may rely on wherever in the collaboration it runs.

``WL(s) = u32(len(s)) || F(name) || F(version) || F(fingerprint)`` for each
white-list sorted by (name, version, fingerprint); ``CAPS(c) = u32(len(c))
|| F(key) || F(value)`` sorted by key.  Pure: standard library only.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

BOOT_PCRS = tuple(range(8))
_BANK_SIZES = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}
_u32 = struct.Struct(">I").pack


@dataclass(frozen=True, order=True)
class WhitelistRef:
    """A white-list as satisfied: name, version, content fingerprint."""

    name: str
    version: str
    fingerprint: str = ""


@dataclass(frozen=True)
class NodeTrust:
    """What attestation established about one compute node."""

    node: str
    trusted: bool  #: the latest attestation verified (quote and log)
    ak_name: bytes  #: TPM name of the attestation key
    boot_bank: str  #: bank of ``boot_pcrs``
    boot_pcrs: Mapping[int, bytes]  #: quoted, verified PCR 0-7
    whitelists: frozenset[WhitelistRef]  #: satisfied white-lists
    capabilities: Mapping[str, str] = field(default_factory=dict)
    reason: str = ""  #: why not trusted, if not


@dataclass(frozen=True)
class DomainTrust:
    """A physical domain: declared capabilities and current members."""

    name: str
    capabilities: Mapping[str, str]
    members: Sequence[NodeTrust]


@dataclass(frozen=True)
class TrustClass:
    """What every member of a domain (or collaboration) guarantees."""

    capabilities: tuple[tuple[str, str], ...]
    whitelists: frozenset[WhitelistRef]


@dataclass(frozen=True)
class ChainValue:
    """A chain-of-trust value, or None with the reason it is undefined."""

    value: str | None
    reason: str = ""
    trust_class: TrustClass | None = None

    @property
    def defined(self) -> bool:
        return self.value is not None


def _f(data: bytes | str) -> bytes:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return _u32(len(data)) + data


def _wl(refs: Iterable[WhitelistRef]) -> bytes:
    refs = sorted(refs)
    return _u32(len(refs)) + b"".join(
        _f(r.name) + _f(r.version) + _f(r.fingerprint) for r in refs
    )


def _caps(capabilities: Iterable[tuple[str, str]]) -> bytes:
    items = sorted(capabilities)
    return _u32(len(items)) + b"".join(_f(k) + _f(v) for k, v in items)


def _undefined(reason: str) -> ChainValue:
    return ChainValue(None, reason)


def rcot(node: NodeTrust) -> ChainValue:
    """RCoT(Physical) of a node (see the module docstring)."""
    if not node.trusted:
        return _undefined(
            "node %s is not trusted: %s"
            % (node.node, node.reason or "no reason given")
        )
    if not node.whitelists:
        return _undefined("node %s satisfies no white-list" % node.node)
    size = _BANK_SIZES.get(node.boot_bank)
    if size is None:
        return _undefined(
            "node %s: unknown PCR bank %r" % (node.node, node.boot_bank)
        )
    pcrs = []
    for i in BOOT_PCRS:
        value = node.boot_pcrs.get(i)
        if value is None or len(value) != size:
            return _undefined(
                "node %s: no valid %s PCR %d" % (node.node, node.boot_bank, i)
            )
        pcrs.append(_u32(i) + _f(value))
    if not node.ak_name:
        return _undefined("node %s has no AK name" % node.node)
    data = b"".join(
        [
            _f("acaas-nova RCoT v1"),
            _f(node.boot_bank),
            _u32(len(pcrs)),
            *pcrs,
            _wl(node.whitelists),
            _f(node.ak_name),
        ]
    )
    return ChainValue(hashlib.sha256(data).hexdigest())


def domain_class(domain: DomainTrust) -> TrustClass | str:
    """The domain's trust class, or why its members do not agree."""
    if not domain.members:
        return "domain %s has no members" % domain.name
    common = None
    for node in domain.members:
        value = rcot(node)
        if not value.defined:
            return "domain %s: %s" % (domain.name, value.reason)
        for key, wanted in sorted(domain.capabilities.items()):
            if node.capabilities.get(key) != wanted:
                return "domain %s: node %s lacks capability %s=%s" % (
                    domain.name,
                    node.node,
                    key,
                    wanted,
                )
        common = (
            set(node.whitelists)
            if common is None
            else common & node.whitelists
        )
    if not common:
        return "domain %s: members satisfy no common white-list" % domain.name
    return TrustClass(
        tuple(sorted(domain.capabilities.items())), frozenset(common)
    )


def dcot(domain: DomainTrust) -> ChainValue:
    """DCoT of a physical domain (see the module docstring)."""
    cls = domain_class(domain)
    if isinstance(cls, str):
        return _undefined(cls)
    data = (
        _f("acaas-nova DCoT v1")
        + _caps(cls.capabilities)
        + _wl(cls.whitelists)
    )
    return ChainValue(hashlib.sha256(data).hexdigest(), trust_class=cls)


def cdcot(
    domain: DomainTrust, collaborators: Sequence[DomainTrust]
) -> ChainValue:
    """CDCoT of a domain with its collaborating domains."""
    classes = []
    for member in [domain, *collaborators]:
        cls = domain_class(member)
        if isinstance(cls, str):
            return _undefined(cls)
        classes.append((member.name, cls))
    first_name, first = classes[0]
    common = set(first.whitelists)
    for name, cls in classes[1:]:
        if cls.capabilities != first.capabilities:
            return _undefined(
                "domain %s and %s declare different "
                "capabilities" % (name, first_name)
            )
        common &= cls.whitelists
    if not common:
        return _undefined(
            "domains %s share no white-list" % ", ".join(n for n, _ in classes)
        )
    cls = TrustClass(first.capabilities, frozenset(common))
    data = (
        _f("acaas-nova CDCoT v1")
        + _caps(cls.capabilities)
        + _wl(cls.whitelists)
    )
    return ChainValue(hashlib.sha256(data).hexdigest(), trust_class=cls)
