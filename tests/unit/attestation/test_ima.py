"""Tests for acaas_nova.attestation.ima (parsing, template hashes)."""

import hashlib
import struct

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from acaas_nova.attestation import ima
from acaas_nova.attestation.errors import MalformedInput
from acaas_nova.attestation.errors import TemplateHashMismatch
from acaas_nova.evidence import ima_build

SHA256_X = ima_build.file_digest(b"x")
PATH = "/usr/lib/python3/dist-packages/nova/compute/manager.py"


def u32(n):
    return struct.pack("<I", n)


def spec_ng_hash(algo, digest, name, *extra):
    """Template hash from the kernel's rules, written out independently."""
    d = algo.encode() + b":\x00" + digest
    n = name + b"\x00"
    data = u32(len(d)) + d + u32(len(n)) + n
    for f in extra:
        data += u32(len(f)) + f
    return hashlib.sha1(data).hexdigest()


def test_ima_ng_line_in_kernel_format_with_spaces_in_path():
    digest = hashlib.sha256(b"payload").digest()
    path = "/opt/my app/lib file.so"
    th = spec_ng_hash("sha256", digest, path.encode())
    line = "10 %s ima-ng sha256:%s %s" % (th, digest.hex(), path)
    entry = ima.parse_entry(line, 3, 4)
    assert entry.path == path
    assert entry.digest == "sha256:" + digest.hex()
    assert entry.template_hash.hex() == th
    assert (entry.index, entry.line, entry.pcr) == (3, 4, 10)
    assert ima_build.format_entry("ima-ng", entry.digest, path) == line


def test_uppercase_hex_is_normalised():
    line = ima_build.format_entry("ima-ng", SHA256_X, PATH)
    pcr, th, template, digest, path = line.split(" ", 4)
    upper = " ".join([pcr, th.upper(), template, digest.upper(), path])
    upper = upper.replace("SHA256:", "sha256:")
    assert ima.parse_entry(upper, 0, 1).digest == SHA256_X


def test_ima_template_pads_name_to_256_bytes():
    digest = hashlib.sha1(b"f").digest()
    data = digest + b"/bin/sh" + bytes(256 - len(b"/bin/sh"))
    line = "10 %s ima %s /bin/sh" % (
        hashlib.sha1(data).hexdigest(),
        digest.hex(),
    )
    entry = ima.parse_entry(line, 0, 1)
    assert entry.digest == "sha1:" + digest.hex()
    assert entry.data == data


def test_ima_template_name_limit():
    name = "/" + "a" * 255
    line = "10 %s ima %s %s" % ("0" * 40, "1" * 40, name)
    with pytest.raises(MalformedInput, match="longer than 255"):
        ima.parse_entry(line, 0, 1)


def test_ima_sig_with_and_without_signature():
    digest = hashlib.sha256(b"s").digest()
    sig = bytes.fromhex("030204aabbccdd")
    th = spec_ng_hash("sha256", digest, b"/bin/a b", sig)
    line = "10 %s ima-sig sha256:%s /bin/a b %s" % (
        th,
        digest.hex(),
        sig.hex(),
    )
    entry = ima.parse_entry(line, 0, 1)
    assert (entry.path, entry.sig) == ("/bin/a b", sig.hex())
    # No signature: the kernel writes a trailing space.
    th = spec_ng_hash("sha256", digest, b"/bin/a", b"")
    line = "10 %s ima-sig sha256:%s /bin/a " % (th, digest.hex())
    assert ima.parse_entry(line, 0, 1).sig == ""
    # ... which a producer may have stripped.
    assert ima.parse_entry(line.rstrip(), 0, 1).path == "/bin/a"


def test_ima_sig_name_ending_in_hex_word_without_signature():
    line = ima_build.format_entry("ima-sig", SHA256_X, "/srv/dead beef")
    entry = ima.parse_entry(line.rstrip(" "), 0, 1)
    assert (entry.path, entry.sig) == ("/srv/dead beef", "")


def test_ima_buf_entry_and_its_digest():
    buf = b"root=/dev/sda1 ro"
    digest = ima_build.file_digest(buf)
    line = ima_build.format_entry(
        "ima-buf", digest, "kexec-cmdline", buf=buf.hex()
    )
    entry = ima.parse_entry(line, 1, 2)
    assert (entry.path, entry.buf) == ("kexec-cmdline", buf.hex())
    th = spec_ng_hash(
        "sha256", bytes.fromhex(digest[7:]), b"kexec-cmdline", buf
    )
    assert entry.template_hash.hex() == th
    wrong = ima_build.format_entry(
        "ima-buf", SHA256_X, "kexec-cmdline", buf=buf.hex()
    )
    with pytest.raises(TemplateHashMismatch, match="buffer"):
        ima.parse_entry(wrong, 1, 2)
    with pytest.raises(MalformedInput, match="no buffer"):
        ima.parse_entry("10 %s ima-buf %s name" % ("0" * 40, SHA256_X), 0, 1)


def test_violation_entry_is_not_checked():
    line = ima_build.format_entry(
        "ima-ng", "sha256:" + "00" * 32, PATH, violation=True
    )
    entry = ima.parse_entry(line, 0, 1)
    assert entry.violation
    assert entry.template_hash == bytes(20)


def test_template_hash_mismatch_names_entry():
    line = ima_build.format_entry("ima-ng", SHA256_X, PATH)
    bad = line.replace(PATH, PATH + "x")
    with pytest.raises(TemplateHashMismatch) as err:
        ima.parse_entry(bad, 41, 42)
    assert "entry 41" in str(err.value)
    assert ima.parse_entry(bad, 41, 42, check=False).path == PATH + "x"


def test_non_utf8_paths_round_trip_from_bytes():
    raw_name = b"/scratch/caf\xe9"
    digest = hashlib.sha256(b"c").digest()
    th = spec_ng_hash("sha256", digest, raw_name)
    line = b"10 %s ima-ng sha256:%s %s\n" % (
        th.encode(),
        digest.hex().encode(),
        raw_name,
    )
    (entry,) = ima.parse(line)
    assert entry.path.encode("utf-8", "surrogateescape") == raw_name


GOOD_TH = "a" * 40


@pytest.mark.parametrize(
    "line,reason",
    [
        ("10 %s ima-ng" % GOOD_TH, "got 3 fields"),
        ("", "got 1 fields"),
        ("x %s ima-ng %s /a" % (GOOD_TH, SHA256_X), "PCR index"),
        ("١٠ %s ima-ng %s /a" % (GOOD_TH, SHA256_X), "PCR index"),
        ("24 %s ima-ng %s /a" % (GOOD_TH, SHA256_X), "out of range"),
        ("10 %s ima-ng %s /a" % ("zz" * 20, SHA256_X), "not hexadecimal"),
        ("10 %s ima-ng %s /a" % ("a a" * 10, SHA256_X), "template hash"),
        ("10 %s ima-ng %s /a" % ("a\tb" * 10, SHA256_X), "not hexadec"),
        ("10 %s ima-ng %s /a" % ("ab" * 21, SHA256_X), "21 bytes"),
        ("10 %s ima-xx %s /a" % (GOOD_TH, SHA256_X), "unsupported template"),
        ("10 %s ima-ng md4:%s /a" % (GOOD_TH, "00" * 16), "known algo"),
        ("10 %s ima-ng %s /a" % (GOOD_TH, "00" * 32), "known algo"),
        ("10 %s ima-ng sha256:%s /a" % (GOOD_TH, "00" * 31), "31 bytes"),
        ("10 %s ima-ng sha256:%s /a" % (GOOD_TH, "g0" * 32), "not hexadec"),
        ("10 %s ima-ng %s " % (GOOD_TH, SHA256_X), "empty file name"),
        ("10 %s ima-ng %s /\ud800" % (GOOD_TH, SHA256_X), "not encodable"),
        ("10 %s ima-sig %s " % (GOOD_TH, SHA256_X), "empty file name"),
        ("10 %s ima-buf %s n 0z" % (GOOD_TH, SHA256_X), "buffer"),
        ("10 %s ima %s /a" % (GOOD_TH, "00" * 19), "19 bytes"),
    ],
)
def test_malformed_lines(line, reason):
    with pytest.raises(MalformedInput, match=reason) as err:
        ima.parse_entry(line, 6, 7, check=False)
    assert err.value.line == 7
    assert "line 7" in str(err.value)
    assert err.value.event_id == "ACAAS-ATT-001"
    # The inline fast path defers to the same checks.
    with pytest.raises(MalformedInput, match=reason) as err:
        ima.parse_lines([line], 6, check=False)
    assert err.value.line == 7


def test_parse_reports_line_number_in_whole_log():
    good = ima_build.format_entry("ima-ng", SHA256_X, PATH)
    with pytest.raises(MalformedInput) as err:
        ima.parse("%s\n%s\nbroken\n" % (good, good), first_entry=100)
    assert err.value.line == 103


def test_parse_rejects_non_text():
    with pytest.raises(MalformedInput, match="expected text"):
        ima.parse(42)


def test_lint_reports_every_malformed_line():
    good = ima_build.format_entry("ima-ng", SHA256_X, PATH)
    errors = ima.lint("bad one\n%s\nbad two\n" % good)
    assert [e.line for e in errors] == [1, 3]


@given(st.text())
@settings(max_examples=300, deadline=None)
def test_arbitrary_text_raises_only_malformed_input(text):
    try:
        ima.parse(text, check=False)
    except MalformedInput:
        pass


@given(st.binary())
@settings(max_examples=300, deadline=None)
def test_arbitrary_bytes_raise_only_declared_errors(data):
    try:
        ima.parse(data)
    except (MalformedInput, TemplateHashMismatch):
        pass


_LINES = [
    ima_build.format_entry("ima-ng", SHA256_X, PATH),
    ima_build.format_entry("ima-sig", SHA256_X, "/a b", sig="0302aa"),
    ima_build.format_entry("ima-buf", SHA256_X, "n", buf="00"),
    ima_build.format_entry("ima", "sha1:" + "11" * 20, "/bin/sh"),
]


@given(st.sampled_from(_LINES), st.integers(0, 200), st.text(max_size=3))
@settings(max_examples=500, deadline=None)
def test_mutated_lines_raise_only_declared_errors(line, pos, insert):
    pos = pos % (len(line) + 1)
    mutated = line[:pos] + insert + line[pos + 1 :]
    try:
        ima.parse(mutated)
    except (MalformedInput, TemplateHashMismatch):
        pass


_PATHS = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"),
    min_size=1,
    max_size=40,
).filter(lambda p: p.strip(" ") == p)


@given(_PATHS, st.binary(min_size=32, max_size=32))
@settings(max_examples=300, deadline=None)
def test_fast_and_general_parsers_agree(path, digest):
    line = ima_build.format_entry("ima-ng", "sha256:" + digest.hex(), path)
    (fast,) = ima.parse_lines([line], 2)
    general = ima.parse_entry(line, 2, 3)
    assert fast == general
    assert (fast.path, fast.digest) == (path, "sha256:" + digest.hex())


@given(
    st.sampled_from(["ima-ng", "ima-sig", "ima-buf", "ima"]),
    _PATHS.filter(lambda p: len(p.encode()) < 200),
    st.binary(max_size=8),
)
@settings(max_examples=300, deadline=None)
def test_format_then_parse_round_trips(template, path, blob):
    digest = ima_build.file_digest(blob, "sha1")
    sig = ("03" + blob.hex()) if template == "ima-sig" else ""
    buf = blob.hex() if template == "ima-buf" else ""
    line = ima_build.format_entry(template, digest, path, sig=sig, buf=buf)
    entry = ima.parse_entry(line, 0, 1)
    assert (entry.template, entry.path, entry.digest) == (
        template,
        path,
        digest,
    )
    assert entry.sig == sig and entry.buf == buf


# Lines written by real kernels, as published in public logs and mailing
# lists: they pin the template data encoding to the kernel's.
KERNEL_LINES = [
    (
        "10 06e804489a77ddab51b9ef27e17053c0e5d503bd ima-sig sha1:1cb84b12d"
        "b45d7da8de58ba6744187db84082f0e /usr/bin/zmore 030202531f402500483"
        "046022100bff9c02dc7b270c83cc94bfec10eecd42831de2cdcb04f024369a1462"
        "3bc3a91022100cc4d015ae932fb98d6846645ed7d1bb1afd4621ec9089bc087126"
        "f191886dd31"
    ),
    (
        "10 5426cf3031a43f5bfca183d79950698a95a728f6 ima-sig sha256:f1125b9"
        "40480d20ad841d26d5ea253edc0704b5ec1548c891edf212cb1a9365e /lib/mod"
        "ules/5.4.48-openpower1/kernel/drivers/usb/common/usb-common.ko"
    ),
    (
        "10 b7862dbbf1383ac6c7cca7f02d981a081aacb1f1 ima-buf sha1:6e0e6fc8a"
        "188ef4f059638949adca4d221946906 device_resume 6e616d653d544553543b"
        "757569643d43525950542d5645524954592d396566333265356236356230343432"
        "34613561386562343436636630653731332d544553543b63617061636974793d30"
        "3b6d616a6f723d3235333b6d696e6f723d303b6d696e6f725f636f756e743d313b"
        "6e756d5f746172676574733d313b6163746976655f7461626c655f686173683d34"
        "656538306533336535363564333633343035663430323839343665383762336539"
        "6563306335383661666639656630656436663561653762656237326431333b"
    ),
    (
        "10 d7026dc672344d3ee372217bdbc7395947788671 ima 6f66d1d8e2fffcc12d"
        "fcb78c04b81fe5b8bbae4e /usr/bin/kmod"
    ),
    (
        "10 7936eb315fb4e74b99e7d461bc5c96049e1ee092 ima-ng sha1:bc026ae66d"
        "81713e4e852465e980784dc96651f8 /usr/lib/systemd/systemd"
    ),
    (
        "11 50b5a68bea0776a84eef6725f17ce474756e51c0 ima-ng sha256:15e1efee"
        "080fe54f5d7404af7e913de01671e745ce55215d89f3d6521d3884f0 /root/cat"
    ),
]


@pytest.mark.parametrize("line", KERNEL_LINES)
def test_lines_from_real_kernels_verify(line):
    entry = ima.parse_entry(line, 0, 1)
    assert entry.template_hash == hashlib.sha1(entry.data).digest()
    assert entry.raw == line
