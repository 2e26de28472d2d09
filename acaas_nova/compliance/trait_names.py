"""Placement trait names that publish a compute node's trust.

Operators require trust on ordinary flavors (``trait:CUSTOM_ACAAS_TRUSTED=
required``), and placement prunes hosts without it before any filter runs.
A trusted node's resource provider carries

* ``CUSTOM_ACAAS_TRUSTED``;
* ``CUSTOM_ACAAS_WL_<NAME>`` for every white-list the node satisfies;
* ``CUSTOM_ACAAS_DOMAIN_<NAME>`` for its physical domain;
* ``CUSTOM_ACAAS_LOC_<NAME>`` for the domain's location.

A node that is not trusted carries none of them: a domain or location
claim is only worth what the node's attestation is worth.

Placement accepts custom traits matching ``^CUSTOM_[A-Z0-9_]+$`` of at
most 255 characters, while our names are case-sensitive and may hold
``. - @ : /``.  The mapping is deterministic and injective:

* a *plain* name (lower-case letters and digits, words joined by single
  hyphens, e.g. ``uk-a``, ``gold``) is upper-cased with ``-`` turned into
  ``_``: ``CUSTOM_ACAAS_DOMAIN_UK_A``.  Plain names never produce ``__``;
* any other name (``Gold``, ``uk_a``, ``wl.v2``) is upper-cased, every
  other character turned into ``_``, cut to fit, and followed by ``__``
  and the first 10 hex digits of the SHA-256 of the original name:
  ``CUSTOM_ACAAS_WL_WL_V2__6E1F...``.  The double underscore keeps these
  apart from plain names; the hash keeps ``Gold`` apart from ``GOLD``.

Everything with the prefix ``CUSTOM_ACAAS_`` is ours (:func:`owned`); any
other trait on a provider belongs to another writer and is never touched.
Pure: no nova, oslo or SQLAlchemy.
"""

import hashlib
import re
from collections.abc import Iterable

#: Every trait acaas-nova writes starts with this.
PREFIX = "CUSTOM_ACAAS_"
TRUSTED = PREFIX + "TRUSTED"
WHITELIST_PREFIX = PREFIX + "WL_"
DOMAIN_PREFIX = PREFIX + "DOMAIN_"
LOCATION_PREFIX = PREFIX + "LOC_"

#: Placement's limit on a trait name.
MAX_LENGTH = 255
#: Hex digits of the name's SHA-256 kept in a non-plain name.
HASH_DIGITS = 10

_TRAIT = re.compile(r"CUSTOM_[A-Z0-9_]+\Z")
_PLAIN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
_OTHER = re.compile(r"[^A-Z0-9]")


def valid(trait: str) -> bool:
    """Whether placement accepts ``trait`` as a custom trait name."""
    return len(trait) <= MAX_LENGTH and _TRAIT.match(trait) is not None


def owned(trait: str) -> bool:
    """Whether ``trait`` is one acaas-nova writes (and may remove)."""
    return trait.startswith(PREFIX)


def encode(prefix: str, name: str) -> str:
    """``prefix`` followed by ``name`` in placement's trait alphabet."""
    if not name:
        raise ValueError("an empty name has no trait")
    room = MAX_LENGTH - len(prefix)
    if _PLAIN.match(name) and len(name) <= room:
        return prefix + name.upper().replace("-", "_")
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()
    suffix = "__" + digest[:HASH_DIGITS].upper()
    body = _OTHER.sub("_", name.upper())[: room - len(suffix)]
    return prefix + body + suffix


def whitelist_trait(name: str) -> str:
    return encode(WHITELIST_PREFIX, name)


def domain_trait(name: str) -> str:
    return encode(DOMAIN_PREFIX, name)


def location_trait(name: str) -> str:
    return encode(LOCATION_PREFIX, name)


def desired_traits(
    status: str,
    whitelists: Iterable[str] = (),
    domain: str | None = None,
    location: str | None = None,
) -> frozenset[str]:
    """The traits of ours a node's provider should carry.

    ``status`` is the node's trust status (``trusted``, ``untrusted``,
    ``unknown``...); only ``trusted`` earns traits.
    """
    if status != "trusted":
        return frozenset()
    traits = {TRUSTED}
    traits.update(whitelist_trait(name) for name in whitelists)
    if domain:
        traits.add(domain_trait(domain))
    if location:
        traits.add(location_trait(location))
    return frozenset(traits)
