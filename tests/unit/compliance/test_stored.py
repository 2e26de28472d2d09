"""Stored effective requirements survive a round trip; corrupt rows don't."""

import pytest

from acaas_nova import exception
from acaas_nova.compliance import stored
from acaas_nova.scheduler import requirements as reqs_mod


def _parse(**hints):
    return reqs_mod.parse(
        {"acaas:%s" % k: v for k, v in hints.items()}, "hint"
    )


@pytest.mark.parametrize(
    "reqs",
    [
        reqs_mod.EMPTY,
        _parse(location="UK,FR", max_distance="5"),
        _parse(
            whitelist="gold",
            exclude_users="u1,u2",
            exclude_projects="p9",
            isolation="exclusive",
            allow_emergency="false",
        ),
        _parse(**{"capability:gpu": "yes", "requirement": "spec-1"}),
        _parse(domain_trust="gold,silver", backup_trust="gold"),
    ],
)
def test_round_trip(reqs):
    assert stored.loads(stored.dumps(reqs)) == reqs


def test_merged_sets_with_several_location_rules_round_trip():
    merged = reqs_mod.Requirements(
        location_rules=(
            reqs_mod.LocationRule(frozenset({"UK"}), 0),
            reqs_mod.LocationRule(frozenset({"FR", "DE"}), 3),
        ),
        whitelists=frozenset({"gold"}),
    )
    assert stored.loads(stored.dumps(merged)) == merged


def test_nothing_stored_means_no_requirements():
    assert stored.loads(None) == reqs_mod.EMPTY
    assert stored.loads("") == reqs_mod.EMPTY


@pytest.mark.parametrize(
    "text, needle",
    [
        ("{not json", "malformed JSON"),
        ("[1, 2]", "not a version 1 document"),
        ('{"v": 2}', "not a version 1 document"),
        ('{"v": 1, "whitelists": "gold"}', "whitelists must be a list"),
        ('{"v": 1, "whitelists": [3]}', "whitelists must be a list"),
        ('{"v": 1, "location_rules": [["UK"]]}', "malformed location rule"),
        ('{"v": 1, "location_rules": [[["UK"], -1]]}', "malformed location"),
        ('{"v": 1, "location_rules": [[["UK"], true]]}', "malformed location"),
        ('{"v": 1, "capabilities": [["gpu"]]}', "malformed capability"),
        ('{"v": 1, "isolation": "alone"}', "unknown isolation"),
        (
            '{"v": 1, "allow_emergency": "yes"}',
            "allow_emergency has the wrong",
        ),
        ("x" * (stored.MAX_BYTES + 1), "at most"),
        (b"{}", "not a JSON text"),
    ],
)
def test_corrupt_documents_are_refused_with_the_reason(text, needle):
    with pytest.raises(exception.Invalid, match=needle):
        stored.loads(text)


def test_documents_written_before_domain_trust_still_load():
    text = stored.dumps(_parse(whitelist="gold")).replace(
        ',"domain_trust":[]', ""
    )
    assert "domain_trust" not in text
    assert stored.loads(text).domain_trust == frozenset()
