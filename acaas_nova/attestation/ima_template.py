"""Template data of IMA measurement list entries, as the kernel builds it.

``ima_calc_field_array_hash_tfm`` hashes, per field of the template:

* for every template but ``ima``: ``u32le(len(field)) || field``;
* ``d-ng`` is ``b"<algo>:\\0" || digest``, ``n-ng`` is ``name || b"\\0"``,
  ``sig`` and ``buf`` are raw bytes (``ima-sig``: ``d-ng|n-ng|sig``,
  ``ima-buf``: ``d-ng|n-ng|buf``);
* the legacy ``ima`` template hashes the raw 20-byte SHA-1 digest and the
  name zero-padded to 256 bytes (``IMA_EVENT_NAME_LEN_MAX + 1``), without
  length prefixes; its names are at most 255 bytes.

Lengths are little-endian (the list is read on the host that wrote it;
``ima_canonical_fmt`` makes them little-endian everywhere).  Pure.
"""

import struct

u32 = struct.Struct("<I").pack

#: Digest sizes of the hash algorithms the kernel may name in ``d-ng``.
DIGEST_SIZES = {
    "md5": 16,
    "sha1": 20,
    "rmd160": 20,
    "sha224": 28,
    "sha256": 32,
    "sha384": 48,
    "sha512": 64,
    "sm3": 32,
    "sm3-256": 32,
    "streebog256": 32,
    "streebog512": 64,
    "sha3-256": 32,
    "sha3-384": 48,
    "sha3-512": 64,
}
NAME_LEN_MAX = 255  # IMA_EVENT_NAME_LEN_MAX
#: Per algorithm: (u32le(len(d-ng)) || "<algo>:\\0", digest size).
DNG_PREFIX = {
    algo: (u32(len(algo) + 2 + size) + algo.encode() + b":\0", size)
    for algo, size in DIGEST_SIZES.items()
}


def ng_data(d_ng: bytes, name: bytes, *extra: bytes) -> bytes:
    """Template data of ima-ng/-sig/-buf: each field ``u32le(len)||data``."""
    n = name + b"\0"
    parts = [u32(len(d_ng)), d_ng, u32(len(n)), n]
    for field in extra:
        parts.append(u32(len(field)))
        parts.append(field)
    return b"".join(parts)


def ima_data(sha1_digest: bytes, name: bytes) -> bytes:
    """Template data of the legacy ``ima`` template (no length prefixes)."""
    return sha1_digest + name + bytes(NAME_LEN_MAX + 1 - len(name))
