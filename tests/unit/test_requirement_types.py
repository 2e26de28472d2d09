"""Requirement value types (pure)."""

import pytest

from acaas_nova import exception
from acaas_nova import requirement_types as rt


@pytest.mark.parametrize(
    "key,value_type,value,expected",
    [
        ("location", rt.LIST, "UK, FR", "UK,FR"),
        ("location", rt.LIST, ["UK", "FR,DE"], "UK,FR,DE"),
        ("max_distance", rt.INTEGER, " 7 ", "7"),
        ("allow_emergency", rt.BOOLEAN, "Yes", "true"),
        ("allow_emergency", rt.BOOLEAN, "off", "false"),
        ("isolation", rt.EXCLUSIVE, "exclusive", "exclusive"),
        ("whitelist", rt.STRING, " gold ", "gold"),
        ("capability:gpu", rt.KEYVALUE, "a100", "a100"),
    ],
)
def test_normalize_accepts(key, value_type, value, expected):
    assert rt.normalize(key, value_type, value) == expected


@pytest.mark.parametrize(
    "key,value_type,value,fragment",
    [
        ("location", rt.LIST, "UK,,FR", "empty item"),
        ("location", rt.LIST, [1], "not a string"),
        ("max_distance", rt.INTEGER, "x", "not an integer"),
        ("max_distance", rt.INTEGER, "-1", "must not be negative"),
        ("allow_emergency", rt.BOOLEAN, "maybe", "not a boolean"),
        ("isolation", rt.EXCLUSIVE, "shared", "not 'exclusive'"),
        ("whitelist", rt.STRING, "  ", "empty value"),
        ("whitelist", rt.STRING, ["a", "b"], "not a single value"),
        ("capability", rt.KEYVALUE, "x", "capability:<key>"),
        ("location:x", rt.LIST, "UK", "takes no sub-key"),
        ("capability:", rt.KEYVALUE, "x", "empty sub-key"),
        ("other", "float", "1", "unknown value type"),
    ],
)
def test_normalize_rejects_with_reason(key, value_type, value, fragment):
    with pytest.raises(exception.InvalidRequirement) as err:
        rt.normalize(key, value_type, value)
    assert fragment in str(err.value)
    assert key.split(":")[0] in str(err.value)
    assert "\n" not in str(err.value)


def test_split_key():
    assert rt.split_key("capability:gpu") == ("capability", "gpu")
    assert rt.split_key("location") == ("location", None)
