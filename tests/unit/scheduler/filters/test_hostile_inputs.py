"""Hostile scheduler hints and flavor extra specs never escape the filter.

Each input is either refused (no host passes, one WARNING naming the key)
or ignored (it is not ours); nothing raises out of ACaaSFilter, and no log
line carries a 100 KB value or a raw newline.
"""

import logging

import pytest
from nova import objects
from nova.tests.unit.scheduler import fakes
from oslo_utils.fixture import uuidsentinel as uuids

from acaas_nova.scheduler.filters import acaas_filter
from tests.unit.scheduler.fake_runtime import FakeRuntime

objects.register_all()

HOSTS = ["h-uk-a", "h-uk-b", "h-fr-a", "h-em-us"]
TRUSTED_LOCAL = ["h-uk-a", "h-uk-b", "h-fr-a"]
BIG = "a" * 100_000


class Spec:
    """A RequestSpec stand-in that can carry what nova's objects would not.

    nova's RequestSpec coerces hint values to lists of strings; other
    callers (or a future nova) might not, so the filter must cope with any
    type here.
    """

    def __init__(self, hints=None, extra_specs=None):
        self.scheduler_hints = hints
        self.flavor = objects.Flavor(extra_specs=extra_specs or {})
        self.user_id = "alice"
        self.project_id = "pa"
        self.instance_uuid = uuids.hostile


def run(spec_obj):
    flt = acaas_filter.ACaaSFilter(runtime=FakeRuntime())
    hosts = [fakes.FakeHostState(h, h, {}) for h in HOSTS]
    return [h.host for h in flt.filter_all(hosts, spec_obj)]


REFUSED_HINTS = [
    ("acaas:colour", ["red"]),
    ("acaas:location", [BIG]),
    ("acaas:location", ["UK," * 20_000 + "FR"]),
    ("acaas:location", [{"nested": "dict"}]),
    ("acaas:location", [["UK"]]),
    ("acaas:location", 42),
    ("acaas:location", None),
    ("acaas:location", []),
    ("acaas:location", [""]),
    ("acaas:location", ["Ünïcødé"]),
    ("acaas:location", ["UK'; DROP TABLE compute_nodes; --"]),
    ("acaas:whitelist", ["gold%"]),
    ("acaas:exclude_users", ["bob\nWARNING forged log line"]),
    ("acaas:max_distance", ["²"]),
    ("acaas:max_distance", ["٣"]),
    ("acaas:max_distance", ["-1"]),
    ("acaas:max_distance", ["1e3"]),
    ("acaas:max_distance", ["9" * 5000]),
    ("acaas:max_distance", ["1", "2"]),
    ("acaas:isolation", ["exclusive", "shared"]),
    ("acaas:isolation", ["EXCLUSIVE; --"]),
    ("acaas:allow_emergency", ["maybe"]),
    ("acaas:requirement", ["x' OR '1'='1"]),
    ("acaas:capability:", ["x"]),
    ("acaas:capability:a b", ["x"]),
    ("acaas:" + "k" * 5000, ["x"]),
    ("acaas:\u202eevil", ["x"]),
]


@pytest.mark.parametrize(
    "key,value", REFUSED_HINTS, ids=[k[:30] for k, _ in REFUSED_HINTS]
)
def test_bad_hint_refused_with_one_short_log_line(caplog, key, value):
    caplog.set_level(logging.WARNING, logger="acaas_nova")
    assert run(Spec({key: value})) == []
    (line,) = [r.getMessage() for r in caplog.records]
    assert "ACaaS refuses instance" in line
    assert "Invalid requirement" in line
    assert len(line) < 400
    assert "\n" not in line


def test_aliases_given_twice_are_refused(caplog):
    hints = {"acaas:exclude_users": ["bob"], "acaas:excluded_users": ["eve"]}
    assert run(Spec(hints)) == []
    assert "given twice" in caplog.text


@pytest.mark.parametrize(
    "hints",
    [
        {"group": ["not-ours"], "same_host": [BIG]},
        {42: ["int key"], ("tuple",): ["key"]},
        {"ACAAS:location": ["FR"]},  # not our prefix: nova's business
        {},
        None,
    ],
)
def test_keys_that_are_not_ours_are_ignored(hints):
    assert run(Spec(hints)) == TRUSTED_LOCAL


@pytest.mark.parametrize(
    "hints", [["acaas:location", "UK"], "acaas:location=UK", 7]
)
def test_hints_that_are_not_a_mapping_are_refused(caplog, hints):
    assert run(Spec(hints)) == []
    assert "expected a mapping" in caplog.text


@pytest.mark.parametrize(
    "specs",
    [
        {"acaas:location": BIG},
        {"acaas:colour": "red"},
        {"acaas:requirement": "rs1"},
        {"acaas:isolation": "private"},
    ],
)
def test_bad_flavor_extra_specs_refused(caplog, specs):
    assert run(Spec(extra_specs=specs)) == []
    assert "Invalid requirement" in caplog.text


def test_unforeseen_error_inside_the_filter_refuses_and_logs(caplog):
    class Exploding(Spec):
        @property
        def scheduler_hints(self):
            raise RuntimeError("boom")

        @scheduler_hints.setter
        def scheduler_hints(self, value):
            pass

    assert run(Exploding()) == []
    assert "ACaaSFilter failed (RuntimeError: boom)" in caplog.text


def test_valid_unicode_free_hint_still_works():
    assert run(Spec({"acaas:location": ["FR"]})) == ["h-fr-a"]
