"""ACaaSFilter with nova's fake host states and real RequestSpec objects."""

import logging

import pytest
from nova import objects
from nova.tests.unit.scheduler import fakes
from oslo_utils.fixture import uuidsentinel as uuids

from acaas_nova import exception
from acaas_nova.compliance import stored
from acaas_nova.db import records
from acaas_nova.scheduler import request
from acaas_nova.scheduler.filters import acaas_filter
from tests.unit.scheduler import snapshots
from tests.unit.scheduler.fake_runtime import FakeRuntime

objects.register_all()

HOSTS = ["h-uk-a", "h-uk-b", "h-fr-a", "h-em-us"]


def instance(uuid, user=None, project=None):
    if user is None:
        return objects.Instance(uuid=uuid)
    return objects.Instance(uuid=uuid, user_id=user, project_id=project)


def host(name, instances=()):
    return fakes.FakeHostState(name, name, {}, instances=list(instances))


def spec(
    hints=None, extra_specs=None, user="alice", project="pa", uuid=uuids.i1
):
    obj = objects.RequestSpec(
        user_id=user,
        project_id=project,
        scheduler_hints={k: [v] for k, v in (hints or {}).items()},
        flavor=objects.Flavor(extra_specs=extra_specs or {}),
    )
    if uuid is not None:
        obj.instance_uuid = uuid
    return obj


def run(rt, spec_obj, hosts=None):
    flt = acaas_filter.ACaaSFilter(runtime=rt)
    hosts = hosts if hosts is not None else [host(h) for h in HOSTS]
    return [h.host for h in flt.filter_all(hosts, spec_obj)]


def test_class_attributes():
    assert acaas_filter.ACaaSFilter.RUN_ON_REBUILD is True
    assert acaas_filter.ACaaSFilter.run_filter_once_per_request is False


def test_no_requirements_passes_trusted_local_hosts():
    assert run(FakeRuntime(), spec()) == ["h-uk-a", "h-uk-b", "h-fr-a"]


def test_hint_and_flavor_requirements():
    rt = FakeRuntime()
    assert run(rt, spec({"acaas:location": "UK"})) == ["h-uk-a", "h-uk-b"]
    flavor = {"acaas:capability:gpu": "yes", "hw:cpu_policy": "dedicated"}
    assert run(rt, spec(extra_specs=flavor)) == ["h-uk-a"]


def test_untrusted_and_unknown_hosts_rejected_and_logged(caplog):
    snap = snapshots.snapshot(
        nodes=[
            snapshots.node("ok", "uk-a"),
            snapshots.node("bad", "uk-a", status="untrusted"),
        ]
    )
    caplog.set_level(logging.DEBUG, logger="acaas_nova")
    got = run(FakeRuntime(snap), spec(), [host("ok"), host("bad"), host("zz")])
    assert got == ["ok"]
    text = caplog.text
    assert "bad (bad) fails ACaaSFilter: attestation status is untrusted" in (
        text
    )
    assert "zz (zz) fails ACaaSFilter: no ACaaS record" in text


def test_invalid_requirement_fails_every_host(caplog):
    caplog.set_level(logging.DEBUG, logger="acaas_nova")
    assert run(FakeRuntime(), spec({"acaas:colour": "red"})) == []
    assert "unknown acaas requirement" in caplog.text
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1


def test_database_failure_fails_closed(caplog):
    rt = FakeRuntime()
    rt.fail_with = exception.DBError(reason="down")
    assert run(rt, spec()) == []
    assert "refusing every host" in caplog.text


def test_stored_specification_for_the_project():
    rt = FakeRuntime(specs={("pa", "rs1"): {"location": "FR"}})
    assert run(rt, spec({"acaas:requirement": "rs1"})) == ["h-fr-a"]
    assert run(rt, spec({"acaas:requirement": "rs1"}, project="pb")) == []


def test_each_request_is_recorded_with_its_requirements():
    rt = FakeRuntime()
    run(
        rt,
        spec({"acaas:exclude_users": "bob", "acaas:isolation": "exclusive"}),
    )
    (rec,) = rt.recorded
    effective = stored.loads(rec.requirements)
    assert effective.exclude_users == {"bob"} and effective.exclusive
    assert rec == records.InstanceTrust(
        instance_uuid=uuids.i1,
        project_id="pa",
        user_id="alice",
        exclude_users=("bob",),
        exclusive=True,
        requirements=stored.dumps(effective),
    )


def test_exclusion_against_existing_instances_with_owners():
    rt = FakeRuntime()
    hosts = [
        host("h-uk-a", [instance(uuids.x, "bob", "pb")]),
        host("h-uk-b", [instance(uuids.y, "carol", "pc")]),
    ]
    got = run(rt, spec({"acaas:exclude_users": "bob"}), hosts)
    assert got == ["h-uk-b"]


def test_symmetry_later_requests_avoid_excluders():
    rt = FakeRuntime()
    run(rt, spec({"acaas:exclude_users": "bob"}, uuid=uuids.i_alice))
    hosts = [host("h-uk-a", [instance(uuids.i_alice)]), host("h-uk-b")]
    got = run(rt, spec(user="bob", project="pb", uuid=uuids.i_bob), hosts)
    assert got == ["h-uk-b"]


def test_exclusive_both_ways():
    rt = FakeRuntime()
    hosts = [host("h-uk-a", [instance(uuids.o, "bob", "pb")]), host("h-uk-b")]
    assert run(rt, spec({"acaas:isolation": "exclusive"}), hosts) == ["h-uk-b"]
    hosts = [host("h-uk-a"), host("h-uk-b", [instance(uuids.i1)])]
    assert run(rt, spec(user="bob", project="pb", uuid=uuids.i2), hosts) == [
        "h-uk-a"
    ]
    # The same project may still join the exclusive host.
    assert run(rt, spec(user="carol", project="pa", uuid=uuids.i3), hosts) == [
        "h-uk-a",
        "h-uk-b",
    ]


def test_unknown_owner_without_context_fails_closed():
    rt = FakeRuntime()
    hosts = [host("h-uk-a", [instance(uuids.mystery)]), host("h-uk-b")]
    got = run(rt, spec({"acaas:exclude_projects": "pb"}), hosts)
    assert got == ["h-uk-b"]


def test_host_passes_and_memo_for_the_weigher():
    rt = FakeRuntime()
    flt = acaas_filter.ACaaSFilter(runtime=rt)
    spec_obj = spec({"acaas:location": "FR"})
    assert flt.host_passes(host("h-fr-a"), spec_obj)
    assert not flt.host_passes(host("h-uk-a"), spec_obj)
    prepared = request.recall(spec_obj)
    assert prepared.matcher.reqs.preferred_locations == {"FR"}
    spec_obj.instance_uuid = uuids.other
    assert request.recall(spec_obj) is None


# ids: oslo's uuidsentinel values are random per process, so test ids
# built from them differ between pytest-xdist workers.
@pytest.mark.parametrize(
    "uuid", [None, uuids.i9], ids=["no-instance", "instance"]
)
def test_requests_without_instance_are_not_recorded(uuid):
    rt = FakeRuntime()
    run(rt, spec(uuid=uuid))
    assert len(rt.recorded) == (0 if uuid is None else 1)
