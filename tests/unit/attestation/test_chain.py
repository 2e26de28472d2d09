"""Tests for acaas_nova.attestation.chain (RCoT, DCoT, CDCoT)."""

import dataclasses
import hashlib
import struct

from acaas_nova.attestation import chain

A1 = chain.WhitelistRef("compute", "1", "f" * 64)
A2 = chain.WhitelistRef("compute", "2", "e" * 64)
B1 = chain.WhitelistRef("hardened", "1", "d" * 64)
PCRS = {i: hashlib.sha256(b"p%d" % i).digest() for i in range(8)}
CAPS = {"cpu_arch": "x86_64", "sev": "true"}


def node(name="n1", wls=(A1, B1), **kw):
    args = dict(
        node=name,
        trusted=True,
        ak_name=b"\x00\x0b" + bytes(32),
        boot_bank="sha256",
        boot_pcrs=PCRS,
        whitelists=frozenset(wls),
        capabilities=dict(CAPS),
    )
    args.update(kw)
    return chain.NodeTrust(**args)


def domain(name, *members, caps=CAPS):
    return chain.DomainTrust(name, dict(caps), list(members))


def F(x):
    x = x.encode() if isinstance(x, str) else x
    return struct.pack(">I", len(x)) + x


def test_rcot_encoding_is_as_documented():
    n = node()
    data = F("acaas-nova RCoT v1") + F("sha256") + struct.pack(">I", 8)
    for i in range(8):
        data += struct.pack(">I", i) + F(PCRS[i])
    data += struct.pack(">I", 2)
    for ref in (A1, B1):  # sorted by (name, version, fingerprint)
        data += F(ref.name) + F(ref.version) + F(ref.fingerprint)
    data += F(n.ak_name)
    value = chain.rcot(n)
    assert value.defined and value.reason == ""
    assert value.value == hashlib.sha256(data).hexdigest()


def test_rcot_changes_with_each_input():
    base = chain.rcot(node()).value
    changed = [
        node(boot_pcrs={**PCRS, 7: bytes(32)}),
        node(wls=(A1,)),
        node(wls=(A2, B1)),
        node(ak_name=b"\x00\x0b" + b"\x01" * 32),
    ]
    values = {chain.rcot(n).value for n in changed}
    assert base not in values and len(values) == 4
    # Order of the white-list set does not matter.
    assert chain.rcot(node(wls=(B1, A1))).value == base


def test_rcot_undefined_with_reason():
    cases = {
        "not trusted: quote": node(trusted=False, reason="quote"),
        "not trusted: no reason": node(trusted=False),
        "satisfies no white-list": node(wls=()),
        "unknown PCR bank": node(boot_bank="md5"),
        "no valid sha256 PCR 7": node(boot_pcrs={**PCRS, 7: b"x"}),
        "no valid sha256 PCR 0": node(boot_pcrs={}),
        "no AK name": node(ak_name=b""),
    }
    for reason, n in cases.items():
        value = chain.rcot(n)
        assert value.value is None and not value.defined
        assert reason in value.reason


def test_dcot_is_the_common_trust_class():
    d = domain("d1", node("a", wls=(A1, B1)), node("b", wls=(A1,)))
    value = chain.dcot(d)
    assert value.trust_class.whitelists == {A1}
    # A backup domain of the same class has the same DCoT, whatever its
    # name or members; a node with extra white-lists changes nothing.
    backup = domain(
        "backup",
        node("c", wls=(A1, A2), boot_pcrs={**PCRS, 0: bytes(32)}),
        node("d", wls=(A1, B1)),
        node("e", wls=(A1,)),
    )
    assert chain.dcot(backup).value == value.value
    expected = hashlib.sha256(
        F("acaas-nova DCoT v1")
        + struct.pack(">I", 2)
        + F("cpu_arch")
        + F("x86_64")
        + F("sev")
        + F("true")
        + struct.pack(">I", 1)
        + F("compute")
        + F("1")
        + F("f" * 64)
    ).hexdigest()
    assert value.value == expected
    assert chain.dcot(domain("d", node(wls=(A1, B1)))).value != expected
    other_caps = domain("d", node(), caps={"cpu_arch": "x86_64"})
    assert (
        chain.dcot(other_caps).value != chain.dcot(domain("d", node())).value
    )


def test_dcot_undefined_when_members_do_not_agree():
    cases = {
        "has no members": domain("d"),
        "n2 is not trusted": domain("d", node(), node("n2", trusted=False)),
        "no common white-list": domain(
            "d", node("a", wls=(A1,)), node("b", wls=(B1,))
        ),
        "lacks capability sev=true": domain(
            "d", node(), node("b", capabilities={"cpu_arch": "x86_64"})
        ),
    }
    for reason, d in cases.items():
        value = chain.dcot(d)
        assert value.value is None and reason in value.reason, value.reason


def test_cdcot_over_collaborating_domains():
    d1 = domain("d1", node("a", wls=(A1, B1)))
    d2 = domain("d2", node("b", wls=(A1, B1, A2)))
    d3 = domain("d3", node("c", wls=(A1,)))
    both = chain.cdcot(d1, [d2])
    assert both.trust_class.whitelists == {A1, B1}
    three = chain.cdcot(d1, [d2, d3])
    assert three.trust_class.whitelists == {A1}
    # The collaboration's order does not matter; tags keep values apart.
    assert chain.cdcot(d3, [d2, d1]).value == three.value
    assert chain.cdcot(d1, []).value != chain.dcot(d1).value
    assert chain.cdcot(d1, []).trust_class == chain.dcot(d1).trust_class


def test_cdcot_undefined_with_reason():
    d1 = domain("d1", node("a", wls=(A1,)))
    assert "d2 has no members" in chain.cdcot(d1, [domain("d2")]).reason
    d4 = domain("d4", node("b", wls=(B1,)))
    assert "share no white-list" in chain.cdcot(d1, [d4]).reason
    d5 = domain("d5", node("c", wls=(A1,)), caps={})
    assert "different capabilities" in chain.cdcot(d1, [d5]).reason


def test_inputs_are_immutable():
    n = node()
    try:
        n.trusted = False
    except dataclasses.FrozenInstanceError:
        pass
    else:
        raise AssertionError("NodeTrust must be frozen")
