"""The agent channel's pure core: key derivation, canonical form, MAC
check (every field covered), counters."""

import hashlib
import hmac
import json

import pytest

from acaas_nova.attestation import channel
from acaas_nova.attestation import errors

SECRET = bytes(range(32))
CID = "6f1c9a52-0000-4000-8000-000000000001"
KEY = channel.derive_key(SECRET, CID)
ARGS = {
    "host": "n1",
    "hypervisor_hostname": "n1",
    "cid": CID,
    "reason": "PCR 7 differs",
    "counter": 7,
}


def test_key_is_hkdf_sha256_of_secret_and_cid():
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    expected = HKDF(
        hashes.SHA256(), 32, None, b"acaas-channel-key-v1\x00" + CID.encode()
    ).derive(SECRET)
    assert KEY == expected and len(KEY) == channel.KEY_BYTES
    # Not the secret, and another CID or secret gives another key.
    assert KEY != SECRET
    assert channel.derive_key(SECRET, CID + "x") != KEY
    assert channel.derive_key(SECRET[::-1], CID) != KEY


@pytest.mark.parametrize(
    "secret, cid", [(b"", CID), ("text", CID), (SECRET, ""), (SECRET, None)]
)
def test_derive_key_refuses_bad_input(secret, cid):
    with pytest.raises(errors.MalformedInput):
        channel.derive_key(secret, cid)


def test_canonical_form_is_sorted_compact_json_without_the_mac():
    signed = dict(ARGS, mac="ab" * 32)
    data = channel.canonical("platform_changed", "n1", 7, signed)
    assert data.startswith(b"acaas-channel-msg-v1\x00")
    body = json.loads(data[len(channel.DOMAIN) :])
    assert body == {"m": "platform_changed", "n": "n1", "f": 7, "a": ARGS}
    assert b" " not in data.replace(b"PCR 7 differs", b"")
    # Key order does not matter; the mac field is not covered.
    shuffled = dict(reversed(list(signed.items())))
    assert channel.canonical("platform_changed", "n1", 7, shuffled) == data
    assert data == channel.canonical("platform_changed", "n1", 7, ARGS)


def test_mac_is_hmac_sha256_of_the_canonical_form():
    data = channel.canonical("round_answer", "n1", "00" * 32, ARGS)
    assert channel.mac(KEY, "round_answer", "n1", "00" * 32, ARGS) == (
        hmac.new(KEY, data, hashlib.sha256).hexdigest()
    )


def test_signed_message_verifies():
    signed = channel.sign(KEY, "platform_changed", "n1", 7, ARGS)
    assert set(signed) == set(ARGS) | {"mac"}
    channel.verify(KEY, "platform_changed", "n1", 7, signed)
    # Upper-case hex is the same MAC.
    channel.verify(
        KEY,
        "platform_changed",
        "n1",
        7,
        dict(signed, mac=signed["mac"].upper()),
    )


@pytest.mark.parametrize(
    "change",
    [
        {"method": "registration_status"},
        {"node": "n2"},
        {"fresh": 8},
        {"fresh": "7"},  # a counter is not its text
        {"key": channel.derive_key(SECRET, "another-cid")},
        {"args": dict(ARGS, host="n2")},
        {"args": dict(ARGS, hypervisor_hostname="n1x")},
        {"args": dict(ARGS, cid="other")},
        {"args": dict(ARGS, reason="PCR 6 differs")},
        {"args": dict(ARGS, counter=8)},
        {"args": dict(ARGS, extra=None)},  # a field added
        {"args": {k: v for k, v in ARGS.items() if k != "reason"}},
    ],
    ids=lambda c: next(iter(c)) + ":" + str(next(iter(c.values())))[:20],
)
def test_tampering_with_any_field_is_refused(change):
    signed = channel.sign(KEY, "platform_changed", "n1", 7, ARGS)
    parts = {
        "key": KEY,
        "method": "platform_changed",
        "node": "n1",
        "fresh": 7,
        "args": signed,
    }
    if "args" in change:
        change = {"args": dict(change["args"], mac=signed["mac"])}
    parts.update(change)
    with pytest.raises(errors.ChannelMacInvalid) as info:
        channel.verify(
            parts["key"],
            parts["method"],
            parts["node"],
            parts["fresh"],
            parts["args"],
        )
    assert info.value.event_id == "ACAAS-ATT-062"


@pytest.mark.parametrize("mac", ["", "ab", "zz" * 32, 12, ["ab" * 32]])
def test_malformed_mac_refused(mac):
    with pytest.raises(errors.ChannelMacInvalid):
        channel.verify(KEY, "m", "n1", 1, dict(ARGS, mac=mac))


def test_fuzz_regression_non_ascii_mac_refused():
    # Found by tests/fuzz/fuzz_rpc_messages.py: a 64-character MAC with a
    # non-ASCII character made hmac.compare_digest raise TypeError.
    mac = (
        "9de96\u021c967f5f46a1d0746cbf00566c5575a752a/fa11477a360B03da8d4987e7"
    )
    assert len(mac) == channel.MAC_HEX
    with pytest.raises(errors.ChannelMacInvalid, match="malformed MAC"):
        channel.verify(KEY, "m", "n1", 1, dict(ARGS, mac=mac))


@pytest.mark.parametrize("args", [ARGS, dict(ARGS, mac=None), None, [1]])
def test_missing_mac_refused_with_its_own_error(args):
    with pytest.raises(errors.ChannelMacMissing) as info:
        channel.verify(KEY, "m", "n1", 1, args)
    assert info.value.event_id == "ACAAS-ATT-061"


@pytest.mark.parametrize("key", [None, b"", b"short", "k" * 32])
def test_no_key_refused(key):
    signed = channel.sign(KEY, "m", "n1", 1, ARGS)
    with pytest.raises(errors.ChannelError):
        channel.verify(key, "m", "n1", 1, signed)


@pytest.mark.parametrize(
    "args", [{"x": b"bytes"}, {"x": float("nan")}, {"x": object()}]
)
def test_values_that_are_not_json_refused(args):
    with pytest.raises(errors.MalformedInput):
        channel.canonical("m", "n1", 1, args)
    with pytest.raises(errors.ChannelMacInvalid):
        channel.verify(KEY, "m", "n1", 1, dict(args, mac="0" * 64))


@pytest.mark.parametrize("fresh", [None, 1.5, True, b"x"])
def test_freshness_must_be_int_or_text(fresh):
    with pytest.raises(errors.MalformedInput):
        channel.canonical("m", "n1", fresh, {})


def test_replayed_counter_refused():
    channel.check_fresh(None, 1)
    channel.check_fresh(6, 7)
    for old in (7, 6, 1):
        with pytest.raises(errors.ChannelReplay) as info:
            channel.check_fresh(7, old)
        assert info.value.event_id == "ACAAS-ATT-063"


@pytest.mark.parametrize("value", [0, -1, True, "5", None, 1 << 63])
def test_bad_counters_refused(value):
    with pytest.raises(errors.ChannelMacInvalid):
        channel.counter(value)


def test_counter_strictly_increases_even_if_the_clock_steps_back():
    times = iter([5_000_000, 5_000_000, 1_000, 9_000_000])
    counter = channel.Counter(clock=lambda: next(times))
    values = [counter.next() for _ in range(4)]
    assert values == [5000, 5001, 5002, 9000]
    assert channel.counter(values[-1]) == 9000
