"""Merging hints, stored specifications and flavor extra specs."""

import pytest

from acaas_nova import exception
from acaas_nova.scheduler import precedence as p
from acaas_nova.scheduler import requirements as r


def stored(values):
    def lookup(name):
        if name not in values:
            raise exception.NotFound(kind="requirement spec", name=name)
        return values[name]

    return lookup


def test_nothing_anywhere_is_empty():
    assert p.resolve(None, None).is_empty()
    assert p.resolve({"group": "x"}, {"hw:mem_page_size": "large"}).is_empty()


def test_location_rules_from_both_sides_all_apply():
    reqs = p.resolve(
        {"acaas:location": "UK"},
        {"acaas:location": "UK,FR", "acaas:max_distance": "5"},
    )
    assert reqs.location_rules == (
        r.LocationRule(frozenset({"UK", "FR"}), 5),
        r.LocationRule(frozenset({"UK"}), 0),
    )
    # The weigher prefers the tenant's (most specific) locations.
    assert reqs.preferred_locations == {"UK"}


def test_exclusions_and_whitelists_are_unions():
    reqs = p.resolve(
        {"acaas:exclude_users": "a", "acaas:whitelist": "gold"},
        {"acaas:exclude_users": "b", "acaas:whitelist": "silver"},
    )
    assert reqs.exclude_users == {"a", "b"}
    assert reqs.whitelists == {"gold", "silver"}


def test_flavor_exclusive_cannot_be_relaxed():
    flavor = {"acaas:isolation": "exclusive"}
    assert p.resolve({}, flavor).exclusive
    assert p.resolve({"acaas:isolation": "exclusive"}, flavor).exclusive
    with pytest.raises(exception.InvalidRequirement, match="cannot relax"):
        p.resolve({"acaas:isolation": "shared"}, flavor)


def test_hint_can_tighten_isolation():
    assert p.resolve({"acaas:isolation": "exclusive"}, {}).exclusive
    flavor = {"acaas:isolation": "shared"}
    assert p.resolve({"acaas:isolation": "exclusive"}, flavor).exclusive


def test_emergency_default_is_no():
    assert not p.resolve({}, {}).emergency_ok


def test_flavor_forbidding_emergency_wins():
    flavor = {"acaas:allow_emergency": "false"}
    with pytest.raises(exception.InvalidRequirement, match="forbids"):
        p.resolve({"acaas:allow_emergency": "true"}, flavor)
    assert not p.resolve({"acaas:allow_emergency": "no"}, flavor).emergency_ok


def test_emergency_from_flavor_or_hint():
    flavor = {"acaas:allow_emergency": "true"}
    assert p.resolve({}, flavor).emergency_ok
    assert not p.resolve(
        {"acaas:allow_emergency": "false"}, flavor
    ).emergency_ok
    assert p.resolve({"acaas:allow_emergency": "true"}, {}).emergency_ok


def test_capabilities_merge_and_conflict():
    reqs = p.resolve(
        {"acaas:capability:gpu": "yes"}, {"acaas:capability:sgx": "on"}
    )
    assert reqs.capabilities == (("gpu", "yes"), ("sgx", "on"))
    same = p.resolve(
        {"acaas:capability:gpu": "yes"}, {"acaas:capability:gpu": "yes"}
    )
    assert same.capabilities == (("gpu", "yes"),)
    with pytest.raises(exception.InvalidRequirement, match="conflicts"):
        p.resolve(
            {"acaas:capability:gpu": "no"}, {"acaas:capability:gpu": "yes"}
        )


def test_stored_spec_is_overlaid_by_hints():
    lookup = stored(
        {"rs1": {"location": "FR", "whitelist": "gold", "isolation": "shared"}}
    )
    reqs = p.resolve(
        {"acaas:requirement": "rs1", "acaas:location": "UK"}, {}, lookup
    )
    assert reqs.requirement == "rs1"
    assert reqs.location_rules[0].locations == {"UK"}
    assert reqs.whitelists == {"gold"}
    assert not reqs.exclusive


def test_stored_spec_under_flavor_floor():
    lookup = stored({"rs1": {"allow_emergency": "true"}})
    with pytest.raises(exception.InvalidRequirement, match="forbids"):
        p.resolve(
            {"acaas:requirement": "rs1"},
            {"acaas:allow_emergency": "false"},
            lookup,
        )


def test_unknown_stored_spec_propagates_not_found():
    with pytest.raises(exception.NotFound, match="nope"):
        p.resolve({"acaas:requirement": "nope"}, {}, stored({}))


def test_stored_spec_cannot_reference_another():
    lookup = stored({"rs1": {"requirement": "rs2"}})
    with pytest.raises(exception.InvalidRequirement, match="only as a hint"):
        p.resolve({"acaas:requirement": "rs1"}, {}, lookup)


def test_reference_without_lookup_is_refused():
    with pytest.raises(exception.InvalidRequirement, match="not available"):
        p.resolve({"acaas:requirement": "rs1"}, {})


def test_invalid_flavor_spec_or_reference_in_flavor():
    with pytest.raises(exception.InvalidRequirement, match="acaas:colour"):
        p.resolve({}, {"acaas:colour": "x"})
    with pytest.raises(exception.InvalidRequirement, match="only as a hint"):
        p.resolve({}, {"acaas:requirement": "rs1"})


def test_overlay_keeps_stored_fields_not_in_hints():
    base = r.parse({"location": "FR", "exclude_users": "x"})
    got = p.overlay(base, r.parse({"acaas:exclude_users": "y"}))
    assert got.location_rules == base.location_rules
    assert got.exclude_users == {"y"}
