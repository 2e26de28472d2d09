"""Parsing and validation of the ``acaas:`` vocabulary."""

import pytest

from acaas_nova import exception
from acaas_nova.scheduler import requirements as r


def test_empty_input_gives_empty_requirements():
    reqs = r.parse({})
    assert reqs.is_empty()
    assert not reqs.exclusive
    assert not reqs.emergency_ok


def test_location_from_string_list_and_commas():
    assert r.parse({"acaas:location": "UK"}).location_rules == (
        r.LocationRule(frozenset({"UK"}), 0),
    )
    reqs = r.parse({"acaas:location": ["UK", "FR,DE"]})
    assert reqs.location_rules[0].locations == {"UK", "FR", "DE"}
    assert reqs.preferred_locations == {"UK", "FR", "DE"}


def test_max_distance_attaches_to_location():
    reqs = r.parse({"acaas:location": "UK", "acaas:max_distance": "10"})
    assert reqs.location_rules == (r.LocationRule(frozenset({"UK"}), 10),)


@pytest.mark.parametrize("value", ["-1", "x", "1.5", "", " ", "+3"])
def test_max_distance_rejects_non_integers(value):
    with pytest.raises(exception.InvalidRequirement, match="max_distance"):
        r.parse({"acaas:location": "UK", "acaas:max_distance": value})


def test_max_distance_without_location_is_refused():
    with pytest.raises(exception.InvalidRequirement, match="needs acaas:loc"):
        r.parse({"acaas:max_distance": "3"})


def test_prefix_is_optional_for_stored_values():
    reqs = r.parse({"location": "UK", "capability:gpu": "yes"})
    assert reqs.capabilities == (("gpu", "yes"),)


def test_data_model_aliases_for_exclusions():
    reqs = r.parse({"excluded_users": "u1", "excluded_projects": "p1,p2"})
    assert reqs.exclude_users == {"u1"}
    assert reqs.exclude_projects == {"p1", "p2"}


def test_whitelists_and_exclusions_are_sets():
    reqs = r.parse(
        {
            "acaas:whitelist": "gold,silver",
            "acaas:exclude_users": ["a", "b"],
            "acaas:exclude_projects": "p",
        }
    )
    assert reqs.whitelists == {"gold", "silver"}
    assert reqs.exclude_users == {"a", "b"}
    assert reqs.exclude_projects == {"p"}


@pytest.mark.parametrize(
    "value,exclusive", [("exclusive", True), ("SHARED", False)]
)
def test_isolation(value, exclusive):
    reqs = r.parse({"acaas:isolation": value})
    assert reqs.exclusive is exclusive
    assert reqs.isolation == value.lower()


def test_isolation_rejects_other_values():
    with pytest.raises(exception.InvalidRequirement, match="isolation"):
        r.parse({"acaas:isolation": "private"})


@pytest.mark.parametrize(
    "value,expected",
    [("true", True), ("Yes", True), ("1", True), ("false", False)],
)
def test_allow_emergency_booleans(value, expected):
    reqs = r.parse({"acaas:allow_emergency": value})
    assert reqs.allow_emergency is expected
    assert reqs.emergency_ok is expected


def test_allow_emergency_rejects_non_boolean():
    with pytest.raises(exception.InvalidRequirement, match="not true or fa"):
        r.parse({"acaas:allow_emergency": "maybe"})


def test_unknown_key_is_named_in_the_error():
    with pytest.raises(exception.InvalidRequirement) as err:
        r.parse({"acaas:colour": "blue"})
    assert str(err.value) == (
        "Invalid requirement acaas:colour: unknown acaas requirement"
    )


@pytest.mark.parametrize("key", ["acaas:capability:", "acaas:capability:a b"])
def test_malformed_capability_keys(key):
    with pytest.raises(exception.InvalidRequirement, match="unknown"):
        r.parse({key: "x"})


def test_scalar_keys_take_one_value():
    with pytest.raises(exception.InvalidRequirement, match="exactly one"):
        r.parse({"acaas:isolation": ["exclusive", "shared"]})
    with pytest.raises(exception.InvalidRequirement, match="exactly one"):
        r.parse({"acaas:capability:gpu": "a,b"})


@pytest.mark.parametrize("value", ["", "UK,", ["UK", ""], [1], 3])
def test_empty_or_non_string_values(value):
    with pytest.raises(exception.InvalidRequirement, match="acaas:location"):
        r.parse({"acaas:location": value})


def test_bad_names_are_refused():
    with pytest.raises(exception.InvalidRequirement, match="valid name"):
        r.parse({"acaas:whitelist": "gold list"})


def test_requirement_reference_only_where_allowed():
    assert r.parse({"acaas:requirement": "rs1"}).requirement == "rs1"
    with pytest.raises(exception.InvalidRequirement, match="only as a hint"):
        r.parse({"acaas:requirement": "rs1"}, allow_reference=False)
    with pytest.raises(exception.InvalidRequirement, match="valid name"):
        r.parse({"acaas:requirement": "a b"})


def test_acaas_items_drops_other_namespaces():
    assert r.acaas_items(None) == {}
    got = r.acaas_items({"hw:cpu_policy": "x", "acaas:location": "UK"})
    assert got == {"acaas:location": "UK"}


def test_normalize_key():
    assert r.normalize_key("acaas:location") == "location"
    assert r.normalize_key("excluded_users") == "exclude_users"
    assert r.normalize_key("capability:gpu") == "capability:gpu"


def test_describe_lists_every_requirement():
    reqs = r.parse(
        {
            "acaas:location": "UK,FR",
            "acaas:max_distance": "4",
            "acaas:whitelist": "gold",
            "acaas:exclude_users": "u",
            "acaas:exclude_projects": "p",
            "acaas:isolation": "exclusive",
            "acaas:allow_emergency": "true",
            "acaas:capability:gpu": "yes",
        }
    )
    assert r.describe(reqs) == (
        "location=FR,UK(+4) whitelist=gold exclude_users=u "
        "exclude_projects=p isolation=exclusive allow_emergency=true "
        "capability:gpu=yes"
    )
    assert r.describe(r.EMPTY) == "none"
