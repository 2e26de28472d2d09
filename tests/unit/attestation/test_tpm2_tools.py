"""PCR values in tpm2-tools' layouts.

The files in data/ were written by tpm2-tools 5.4 against a swtpm
(``tpm2_pcrread sha1:0,3+sha256:0,...,10`` with ``-F serialized``,
``-F values`` and the printed output) after extending PCR 3 of sha256.
"""

import pathlib
import struct

import pytest

from acaas_nova.attestation import errors
from acaas_nova.attestation import tpm2_tools

DATA = pathlib.Path(__file__).parent / "data"
SELECTION = {"sha1": [0, 3], "sha256": list(range(11))}
PCR3 = bytes.fromhex(
    "9ef814b42fa0be12d197c44d3e8e03441a4b1118237658368ba1351090e556ed"
)


def expected():
    values = {
        "sha1": {0: bytes(20), 3: bytes(20)},
        "sha256": {i: bytes(32) for i in range(11)},
    }
    values["sha256"][3] = PCR3
    return values


def test_serialized_layout():
    data = (DATA / "tpm2_pcrread.serialized").read_bytes()
    assert tpm2_tools.load_pcrs(data) == expected()


def test_values_layout_needs_the_selection():
    data = (DATA / "tpm2_pcrread.values").read_bytes()
    assert tpm2_tools.load_pcrs(data, SELECTION) == expected()
    with pytest.raises(errors.MalformedInput):
        tpm2_tools.load_pcrs(data)


def test_printed_text():
    text = (DATA / "tpm2_pcrread.yaml").read_text()
    assert tpm2_tools.load_pcrs(text) == expected()
    assert tpm2_tools.load_pcrs(text.encode()) == expected()
    assert tpm2_tools.load_pcrs("pcrs:\n" + text) == expected()


def _corrupt(offset, value):
    data = bytearray((DATA / "tpm2_pcrread.serialized").read_bytes())
    data[offset : offset + len(value)] = value
    return bytes(data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\0" * 100,
        _corrupt(0, struct.pack("<I", 17)),  # 17 banks
        _corrupt(6, b"\x05"),  # select size 5
        _corrupt(4, b"\x99\x00"),  # unknown hash
        _corrupt(132, struct.pack("<I", 3)),  # 3 digest lists, 2 present
        _corrupt(136, struct.pack("<I", 9)),  # 9 digests in a list
        _corrupt(140, struct.pack("<H", 65)),  # digest of 65 bytes
        _corrupt(140, struct.pack("<H", 19)),  # sha1 digest of 19 bytes
        (DATA / "tpm2_pcrread.serialized").read_bytes()[:-1],
    ],
)
def test_malformed_serialized(data):
    with pytest.raises(errors.MalformedInput):
        tpm2_tools.load_pcrs(data)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  0 : 0x00\n",
        "sha256:\n  0 : 0xzz\n",
        "sha256:\n  0 : 0x00\n",
        "sha256:\n  99: 0x" + "00" * 32 + "\n",
        "md5:\n",
        "sha256:\n  garbage\n",
    ],
)
def test_malformed_text(text):
    with pytest.raises(errors.MalformedInput):
        tpm2_tools.load_pcrs(text)


@pytest.mark.parametrize("value", [None, 5, [], {}, b"x" * (1 << 22)])
def test_wrong_types(value):
    with pytest.raises(errors.MalformedInput):
        tpm2_tools.load_pcrs(value)


def test_fuzz_regression_text_with_non_ascii_bytes():
    # Found by tests/fuzz/fuzz_tpm2_tools.py: UnicodeDecodeError escaped.
    data = (DATA / "fuzz/tpm2_tools-non-ascii.txt").read_bytes()
    with pytest.raises(errors.MalformedInput, match="not ASCII"):
        tpm2_tools.load_pcrs(data)


def test_tpm2_tools_quote_verifies_without_conversion():
    # data/tpm2_quote: tpm2_createak -G ecc -s ecdsa -f pem -u ak.pem, then
    # tpm2_quote -l sha256:0,...,10 -q 6e6f6e6365 -m quote.msg -s quote.sig
    # -o quote.pcrs (tpm2-tools 5.4 on a swtpm): the files as written.
    from acaas_nova.attestation import quote

    files = DATA / "tpm2_quote"
    result = quote.verify_quote(
        (files / "ak.pem").read_bytes(),
        (files / "quote.msg").read_bytes(),
        (files / "quote.sig").read_bytes(),
        (files / "quote.pcrs").read_bytes(),
        "6e6f6e6365",
        {"sha256": range(11)},
    )
    assert result.pcrs["sha256"][3] == PCR3
    with pytest.raises(errors.NonceMismatch):
        quote.verify_quote(
            (files / "ak.pem").read_bytes(),
            (files / "quote.msg").read_bytes(),
            (files / "quote.sig").read_bytes(),
            (files / "quote.pcrs").read_bytes(),
            b"another",
            {"sha256": range(11)},
        )
