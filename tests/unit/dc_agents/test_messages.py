"""Validation of what travels between DC-C and DC-S."""

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from dc_agents import errors
from dc_agents import messages

PCRS = {"sha256": {i: bytes([i]) * 32 for i in range(11)}}


def _answer(**changes):
    answer = messages.quote_answer(
        "cid-1", b"attest", b"sig", PCRS, "10 abc ima-ng x y\n", 3, "rack1"
    )
    answer.update(changes)
    return answer


def test_round_trip():
    parsed = messages.parse_quote_answer(_answer(), 10_000)
    assert parsed.attest == b"attest" and parsed.signature == b"sig"
    assert parsed.pcrs == PCRS
    assert (parsed.ima_offset, parsed.domain, parsed.cid) == (
        3,
        "rack1",
        "cid-1",
    )


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"attest": "!!"}, "quote attestation data: not base64"),
        ({"attest": 5}, "not a string"),
        ({"pcrs": {"md4": {}}}, "unknown bank"),
        ({"pcrs": {"sha256": {"x": "00"}}}, "bad PCR index"),
        ({"pcrs": {"sha256": {"1": "00"}}}, "is not 32 bytes"),
        ({"ima_offset": -1}, "outside"),
        ({"ima_offset": True}, "not an integer"),
        ({"cid": ""}, "CID"),
        ({"extra": 1}, "unexpected fields .extra., missing none"),
    ],
)
def test_bad_answers_refused(changes, match):
    with pytest.raises(errors.MalformedMessage, match=match) as info:
        messages.parse_quote_answer(_answer(**changes), 10_000)
    assert "\n" not in str(info.value)


def test_partial_answer_flag():
    assert not messages.parse_quote_answer(_answer(), 10_000).ima_more
    wire = messages.quote_answer(
        "cid-1", b"a", b"s", PCRS, "x\n", 0, None, ima_more=True
    )
    assert wire["ima_more"] is True
    assert messages.parse_quote_answer(wire, 10_000).ima_more
    # An agent that never sends chunks leaves the field out.
    old = {k: v for k, v in _answer().items() if k != "ima_more"}
    assert not messages.parse_quote_answer(old, 10_000).ima_more


@pytest.mark.parametrize("value", [1, 0, "true", None, [True]])
def test_partial_answer_flag_must_be_a_boolean(value):
    with pytest.raises(
        errors.MalformedMessage, match="IMA log continuation: not a boolean"
    ):
        messages.parse_quote_answer(_answer(ima_more=value), 10_000)


def test_not_a_mapping():
    with pytest.raises(errors.MalformedMessage, match="not a mapping"):
        messages.parse_quote_answer(["x"], 10_000)


def test_oversized_answer():
    with pytest.raises(errors.MessageTooLarge, match="exceeds the limit"):
        messages.parse_quote_answer(_answer(ima_log="x" * 5000), 2000)


def test_decode_limits():
    assert messages.decode(messages.encode(b"abc"), "x") == b"abc"
    with pytest.raises(errors.MalformedMessage, match="longer than 4"):
        messages.decode(messages.encode(b"x" * 100), "x", limit=4)


def test_check_size_unserialisable():
    with pytest.raises(errors.MalformedMessage, match="JSON"):
        messages.check_size({"x": object()}, "request", 100)


def test_text():
    assert messages.text("node1", "host") == "node1"
    with pytest.raises(errors.MalformedMessage):
        messages.text("x" * 300, "host")
    with pytest.raises(errors.MalformedMessage):
        messages.text(None, "host")
    with pytest.raises(errors.MalformedMessage, match="control characters"):
        messages.text("node1\nFAKE LOG LINE", "host")


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(sorted(_answer())) | st.text(max_size=8),
        _json,
        max_size=8,
    )
    | _json
)
def test_any_answer_is_parsed_or_refused_cleanly(answer):
    try:
        messages.parse_quote_answer(answer, 10_000)
    except (errors.MalformedMessage, errors.MessageTooLarge) as exc:
        assert "\n" not in str(exc)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _json, max_size=6))
def test_any_pcr_mapping_is_parsed_or_refused_cleanly(value):
    try:
        messages.decode_pcrs(value)
    except errors.MalformedMessage:
        pass


def test_partial_answer_flag_is_covered_by_the_mac():
    from acaas_nova.attestation import channel
    from acaas_nova.attestation import errors as att_errors

    key = b"k" * 32
    wire = messages.quote_answer(
        "cid-1", b"a", b"s", PCRS, "x\n", 0, None, ima_more=True
    )
    signed = channel.sign(key, "quote_answer", "n1", "ab", wire)
    channel.verify(key, "quote_answer", "n1", "ab", signed)
    for changed in (False, None):
        forged = dict(signed, ima_more=changed)
        if changed is None:
            del forged["ima_more"]
        with pytest.raises(att_errors.ChannelMacInvalid):
            channel.verify(key, "quote_answer", "n1", "ab", forged)


@pytest.mark.parametrize("index", ["\u00b2", "\u0663", "\uff17", "+1", " 2"])
def test_fuzz_regression_pcr_index_of_other_digits(index):
    # Found by tests/fuzz/fuzz_rpc_messages.py: str.isdigit() accepts "²",
    # which int() refuses, so a ValueError escaped decode_pcrs.
    with pytest.raises(errors.MalformedMessage, match="bad PCR index"):
        messages.decode_pcrs({"sha256": {index: "00" * 32}})
    with pytest.raises(errors.MalformedMessage, match="bad PCR index"):
        messages.parse_quote_answer(
            _answer(pcrs={"sha256": {index: "00" * 32}}), 10_000
        )


def test_one_pcr_reported_twice_is_refused():
    with pytest.raises(errors.MalformedMessage, match="PCR 7 reported twice"):
        messages.decode_pcrs({"sha256": {"7": "00" * 32, "07": "11" * 32}})


def _slow_pcrs(value):
    """decode_pcrs with its whole-bank fast path out of the way."""
    original = messages._decode_bank
    messages._decode_bank = lambda *a: None
    try:
        return messages.decode_pcrs(value)
    except errors.MalformedMessage as exc:
        return type(exc)
    finally:
        messages._decode_bank = original


def _pcrs_or_error(value):
    try:
        return messages.decode_pcrs(value)
    except errors.MalformedMessage as exc:
        return type(exc)


_HEXISH = st.text(alphabet="0123456789abcdefABCDEF \t\n", max_size=70)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["0", "7", "10", "23", "24", "07", "x", "²"]),
        st.one_of(
            _HEXISH,
            st.sampled_from(["ab" * 32, "AB" * 32, " " + "ab" * 31 + "a "]),
            st.integers(),
        ),
        max_size=6,
    )
)
def test_pcr_fast_path_agrees_with_the_field_by_field_path(values):
    value = {"sha256": values}
    assert _pcrs_or_error(value) == _slow_pcrs(value)


def test_pcr_fast_path_taken_and_whitespace_refused():
    values = {str(i): bytes([i]) * 32 for i in range(11)}
    wire = {"sha256": {k: v.hex() for k, v in values.items()}}
    assert messages._decode_bank(wire["sha256"], 32) is not None
    assert messages.decode_pcrs(wire) == {
        "sha256": {int(k): v for k, v in values.items()}
    }
    # Same length, but a space where a digit was: never 32 bytes.
    wire["sha256"]["3"] = " " + wire["sha256"]["3"][1:]
    with pytest.raises(errors.MalformedMessage, match="PCR 3"):
        messages.decode_pcrs(wire)


_JSONABLE = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.text(max_size=20),
    ),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_JSONABLE)
def test_size_bound_is_never_below_the_json_text(value):
    import json

    assert messages._json_bound(value) >= len(
        json.dumps(value, separators=(",", ":"))
    )


@pytest.mark.parametrize("value", [{1: "x"}, {"a": b"x"}, {"a": 1.5}])
def test_size_bound_leaves_odd_values_to_the_exact_check(value):
    assert messages._json_bound(value) == float("inf")
