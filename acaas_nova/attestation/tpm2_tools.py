"""PCR values in the layouts tpm2-tools writes, without hand conversion.

``tpm2_quote -o FILE`` and ``tpm2_pcrread -o FILE -F serialized`` write the
*serialized* layout: the C structures as they lie in memory on a
little-endian host --

* ``TPML_PCR_SELECTION``: u32 count, then 16 ``TPMS_PCR_SELECTION`` of 8
  bytes each (u16 hash, u8 sizeofSelect, 4 select bytes, 1 pad byte);
* u32: the number of ``TPML_DIGEST`` that follow;
* each ``TPML_DIGEST``: u32 count, then 8 ``TPM2B_DIGEST`` of 66 bytes each
  (u16 size, 64-byte buffer).

The digests, taken in order across the lists, are the selected PCRs bank
by bank, indices ascending.  ``-F values`` writes only the concatenated
digests (the selection must then be given), and ``tpm2_pcrread``'s
standard output is YAML-like text (``sha256:`` then ``  0 : 0x<hex>``
lines).  :func:`load_pcrs` accepts all three.

Pure: standard library only.
"""

import struct

from acaas_nova.attestation import errors
from acaas_nova.attestation import inputs
from acaas_nova.attestation import tpm_structs as ts

_SELECTION_SIZE = 4 + 16 * 8
_DIGEST_LIST_SIZE = 4 + 8 * 66
_MAX_FILE = _SELECTION_SIZE + 4 + 64 * _DIGEST_LIST_SIZE


def _bad(reason: str) -> errors.MalformedInput:
    return errors.MalformedInput(what="tpm2-tools PCR output", reason=reason)


def load_pcrs(data, selection=None) -> dict[str, dict[int, bytes]]:
    """PCR values (bank -> index -> bytes) from tpm2-tools output.

    ``data`` is the file's bytes (serialized or values layout) or the
    text ``tpm2_pcrread`` printed; ``selection`` (bank -> indices) is
    needed only for the values layout.  Raises MalformedInput.
    """
    data = inputs.text_or_bytes(data, "tpm2-tools PCR output", _MAX_FILE * 2)
    if isinstance(data, str):
        return parse_text(data)
    if _looks_like_text(data):
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            raise _bad("printed output is not ASCII text") from None
        return parse_text(text)
    try:
        return parse_serialized(data)
    except errors.MalformedInput:
        if selection is None:
            raise
    return parse_values(data, selection)


def _looks_like_text(data: bytes) -> bool:
    head = data.lstrip()[:8]
    return bool(head) and head.isascii() and head[:1].isalpha()


def parse_serialized(data: bytes) -> dict[str, dict[int, bytes]]:
    """The serialized layout (``tpm2_quote -o``, ``-F serialized``)."""
    data = inputs.blob(data, "tpm2-tools PCR output", _MAX_FILE)
    if len(data) < _SELECTION_SIZE + 4:
        raise _bad("%d bytes is too short for a PCR selection" % len(data))
    (count,) = struct.unpack_from("<I", data, 0)
    if count > 16:
        raise _bad("PCR selection of %d banks" % count)
    wanted = []
    for i in range(count):
        alg, size = struct.unpack_from("<HB", data, 4 + 8 * i)
        if size > 4:
            raise _bad("bank %d: select size %d" % (i, size))
        bits = int.from_bytes(data[7 + 8 * i : 7 + 8 * i + size], "little")
        bank = ts.hash_name(alg, "tpm2-tools PCR bank")
        wanted.extend((bank, n) for n in range(size * 8) if bits >> n & 1)
    (lists,) = struct.unpack_from("<I", data, _SELECTION_SIZE)
    off = _SELECTION_SIZE + 4
    if len(data) != off + lists * _DIGEST_LIST_SIZE:
        raise _bad(
            "%d digest lists need %d bytes, file has %d"
            % (lists, off + lists * _DIGEST_LIST_SIZE, len(data))
        )
    digests = []
    for _ in range(lists):
        (n,) = struct.unpack_from("<I", data, off)
        if n > 8:
            raise _bad("digest list of %d entries" % n)
        for k in range(n):
            start = off + 4 + 66 * k
            (size,) = struct.unpack_from("<H", data, start)
            if size > 64:
                raise _bad("digest of %d bytes" % size)
            digests.append(data[start + 2 : start + 2 + size])
        off += _DIGEST_LIST_SIZE
    return _assign(wanted, digests)


def parse_values(data: bytes, selection) -> dict[str, dict[int, bytes]]:
    """The values layout: concatenated digests of ``selection``."""
    data = inputs.blob(data, "tpm2-tools PCR output", _MAX_FILE)
    wanted = [
        (bank, i)
        for bank, indices in inputs.selection(selection).items()
        for i in indices
    ]
    digests = []
    off = 0
    for bank, _ in wanted:
        size = ts.HASH_SIZES[bank]
        digests.append(data[off : off + size])
        off += size
    if off != len(data):
        raise _bad(
            "the selection needs %d bytes, file has %d" % (off, len(data))
        )
    return _assign(wanted, digests)


def parse_text(text: str) -> dict[str, dict[int, bytes]]:
    """``tpm2_pcrread``'s printed output (``bank:`` and ``i : 0x..``)."""
    values: dict[str, dict[int, bytes]] = {}
    bank = None
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            continue
        name, sep, rest = stripped.partition(":")
        name, rest = name.strip(), rest.strip()
        if not sep:
            raise _bad("line %d: expected 'name:' or 'PCR : 0x<hex>'" % lineno)
        if not rest:
            if name == "pcrs":  # tpm2_quote prints a "pcrs:" heading
                continue
            bank = inputs.bank_name(name, "tpm2-tools PCR bank")
            values.setdefault(bank, {})
            continue
        if bank is None:
            raise _bad("line %d: PCR value before a bank name" % lineno)
        index = inputs.pcr_index(name, "tpm2-tools line %d PCR" % lineno)
        digest = inputs.hex_or_bytes(
            rest, "tpm2-tools line %d value" % lineno, ts.HASH_SIZES[bank]
        )
        if len(digest) != ts.HASH_SIZES[bank]:
            raise _bad(
                "line %d: %s value of %d bytes" % (lineno, bank, len(digest))
            )
        values[bank][index] = digest
    if not values:
        raise _bad("no PCR values")
    return values


def _assign(wanted, digests) -> dict[str, dict[int, bytes]]:
    if len(digests) != len(wanted):
        raise _bad(
            "%d PCRs selected but %d values present"
            % (len(wanted), len(digests))
        )
    values: dict[str, dict[int, bytes]] = {}
    for (bank, index), digest in zip(wanted, digests, strict=True):
        if len(digest) != ts.HASH_SIZES[bank]:
            raise _bad(
                "%s PCR %d value has %d bytes" % (bank, index, len(digest))
            )
        values.setdefault(bank, {})[index] = digest
    return values
