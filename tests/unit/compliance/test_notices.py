"""Reading nova's versioned notifications (acaas_nova.compliance.notices)."""

import pytest

from acaas_nova import exception
from acaas_nova.compliance import notices

UUID = "0b5f5d2a-8d1e-4c3a-9f1e-2f6c1d1a7e01"


def _payload(**data):
    base = {"uuid": UUID, "host": "host1", "node": "host1"}
    base.update(data)
    return {
        "nova_object.name": "InstanceActionPayload",
        "nova_object.namespace": "nova",
        "nova_object.version": "1.8",
        "nova_object.data": {k: v for k, v in base.items() if v is not ...},
    }


@pytest.mark.parametrize("event_type", sorted(notices.EVENTS))
def test_every_followed_event_is_read(event_type):
    notice = notices.parse(event_type, _payload())
    assert notice.kind == notices.EVENTS[event_type]
    assert notice.instance_uuid == UUID
    assert notice.event_type == event_type
    if notice.kind == notices.ARRIVED:
        assert (notice.host, notice.node) == ("host1", "host1")
    else:
        assert (notice.host, notice.node) == (None, None)


@pytest.mark.parametrize(
    "event_type",
    [
        "instance.create.start",
        "instance.update",
        "instance.live_migration_pre.start",
        "compute.exception",
        "",
        None,
        42,
        ["instance.create.end"],
    ],
)
def test_events_not_followed_are_ignored(event_type):
    assert notices.parse(event_type, {"anything": 1}) is None


def test_uuid_is_normalised_to_lower_case():
    notice = notices.parse("instance.delete.end", _payload(uuid=UUID.upper()))
    assert notice.instance_uuid == UUID


def test_an_arrival_without_a_host_has_none():
    notice = notices.parse("instance.create.end", _payload(host=None))
    assert notice.host is None
    assert not notices.needs_sweep(notice, None)


@pytest.mark.parametrize(
    "payload, named",
    [
        (None, "not an object"),
        ([], "not an object"),
        ("text", "not an object"),
        ({}, "nova_object.data"),
        ({"nova_object.data": []}, "nova_object.data"),
        (_payload(uuid=None), "uuid"),
        (_payload(uuid=...), "uuid"),
        (_payload(uuid=12), "uuid"),
        (_payload(uuid="not-a-uuid"), "uuid"),
        (_payload(uuid="' OR 1=1 --"), "uuid"),
        (_payload(host=12), "host"),
        (_payload(host=""), "host"),
        (_payload(host="h" * 256), "host"),
        (_payload(host="host1\nACaaS: forged"), "control characters"),
        (_payload(node=["host1"]), "node"),
    ],
)
def test_malformed_payloads_are_refused_with_the_field(payload, named):
    with pytest.raises(exception.Invalid) as err:
        notices.parse("instance.create.end", payload)
    assert named in err.value.message
    assert "\n" not in err.value.message


@pytest.mark.parametrize(
    "trusted, expected",
    [
        (True, False),  # a trusted host: the periodic sweep suffices
        (False, True),  # the host is untrusted or stale
        (None, True),  # we have no record of the host
    ],
)
def test_needs_sweep(trusted, expected):
    notice = notices.parse("instance.create.end", _payload())
    assert notices.needs_sweep(notice, trusted) is expected


def test_gone_never_needs_a_sweep():
    notice = notices.parse("instance.delete.end", _payload())
    assert not notices.needs_sweep(notice, False)
