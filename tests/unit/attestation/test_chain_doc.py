"""docs/chains.rst's worked example is what acaas_nova.attestation.chain
computes: every value the document prints is recomputed here from the
inputs it states, so the document cannot drift from the code."""

import hashlib
import pathlib
import re

from acaas_nova.attestation import chain

DOC = pathlib.Path(__file__).resolve().parents[3] / "docs" / "chains.rst"
GOLD = chain.WhitelistRef("gold", "2026.1", "a" * 64)
SILVER = chain.WhitelistRef("silver", "3", "b" * 64)
CAPS = {"cpu": "x86_64", "sev": "yes"}


def _node(name, whitelists, trusted=True, capabilities=CAPS):
    return chain.NodeTrust(
        node=name,
        trusted=trusted,
        ak_name=b"\x00\x0b" + hashlib.sha256(name.encode()).digest(),
        boot_bank="sha256",
        boot_pcrs={
            i: hashlib.sha256(b"good-pcr%d" % i).digest() for i in range(8)
        },
        whitelists=frozenset(whitelists),
        capabilities=capabilities,
        reason="" if trusted else "quote signature invalid",
    )


def _values():
    n1 = _node("n1", {GOLD, SILVER})
    n2 = _node("n2", {GOLD})
    n3 = _node("n3", {GOLD, SILVER})
    uk_a = chain.DomainTrust("uk-a", CAPS, [n1, n2])
    uk_b = chain.DomainTrust("uk-b", CAPS, [n3])
    em_us = chain.DomainTrust(
        "em-us",
        {"cpu": "x86_64"},
        [_node("n4", {GOLD}, capabilities={"cpu": "x86_64"})],
    )
    n2_bad = _node("n2", {GOLD}, trusted=False)
    uk_a_bad = chain.DomainTrust("uk-a", CAPS, [n1, n2_bad])
    return {
        "RCoT(n1)": chain.rcot(n1),
        "RCoT(n2)": chain.rcot(n2),
        "RCoT(n3)": chain.rcot(n3),
        "DCoT(uk-a)": chain.dcot(uk_a),
        "DCoT(uk-b)": chain.dcot(uk_b),
        "CDCoT(uk-a; uk-b)": chain.cdcot(uk_a, [uk_b]),
        "CDCoT(uk-a; uk-b, em-us)": chain.cdcot(uk_a, [uk_b, em_us]),
        "RCoT(n2, untrusted)": chain.rcot(n2_bad),
        "DCoT(uk-a, n2 untrusted)": chain.dcot(uk_a_bad),
        "CDCoT(uk-a; uk-b, n2 untrusted)": chain.cdcot(uk_a_bad, [uk_b]),
    }


def _documented():
    found = {}
    for line in DOC.read_text().splitlines():
        m = re.match(r"\s+([A-Z]*CoT\(.*?\))\s+= (.*)$", line)
        if m:
            found[m.group(1)] = m.group(2).strip()
    return found


def test_every_documented_value_is_computed_by_the_code():
    documented = _documented()
    values = _values()
    assert set(documented) == set(values)
    for name, value in values.items():
        expected = (
            value.value if value.defined else "undefined: " + value.reason
        )
        assert documented[name] == expected, name
