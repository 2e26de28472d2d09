"""Our validators inside nova's extra spec validation machinery."""

import pytest
from nova import exception as nova_exc
from nova.api.validation.extra_specs import validators

from acaas_nova.scheduler import extra_spec_validators as ours
from acaas_nova.scheduler import precedence


@pytest.fixture
def registry(monkeypatch):
    """nova's registry with our validators added (as the entry point does)."""
    monkeypatch.setattr(validators, "VALIDATORS", dict(validators.VALIDATORS))
    monkeypatch.setattr(validators, "NAMESPACES", set(validators.NAMESPACES))
    for v in ours.register():
        validators.VALIDATORS[v.name] = v
        validators.NAMESPACES.add(v.name_regex.split(":", 1)[0])
    return validators


GOOD = [
    ("acaas:location", "UK"),
    ("acaas:location", "UK, FR"),
    ("acaas:max_distance", "10"),
    ("acaas:whitelist", "gold"),
    ("acaas:exclude_users", "u1,u2"),
    ("acaas:exclude_projects", "p1"),
    ("acaas:isolation", "exclusive"),
    ("acaas:isolation", "shared"),
    ("acaas:allow_emergency", "false"),
    ("acaas:allow_emergency", "True"),
    ("acaas:capability:gpu", "yes"),
    ("acaas:domain_trust", "gold"),
    ("acaas:backup_trust", "gold, silver"),
]
BAD = [
    ("acaas:location", ""),
    ("acaas:location", "UK,,FR"),
    ("acaas:max_distance", "-1"),
    ("acaas:max_distance", "far"),
    ("acaas:isolation", "private"),
    ("acaas:allow_emergency", "maybe"),
    ("acaas:capability:gpu", ""),
    ("acaas:colour", "blue"),
    ("acaas:requirement", "rs1"),
    ("acaas:domain_trust", ""),
    ("acaas:backup_trust", "gold,,silver"),
]


@pytest.mark.parametrize("key,value", GOOD)
def test_valid_specs_pass_nova_and_our_parser(registry, key, value):
    registry.validate(key, value)
    precedence.resolve({}, {key: value, "acaas:location": "UK"})


@pytest.mark.parametrize("key,value", BAD)
def test_invalid_specs_are_refused_by_nova(registry, key, value):
    with pytest.raises(nova_exc.ValidationError):
        registry.validate(key, value)


def test_entry_point_is_declared():
    import pathlib

    setup_cfg = pathlib.Path(ours.__file__).parents[2] / "setup.cfg"
    text = setup_cfg.read_text()
    assert "nova.api.extra_spec_validators" in text
    assert "acaas = acaas_nova.scheduler.extra_spec_validators" in text
