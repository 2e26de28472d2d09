"""ACaaSWeigher through nova's own weight handler."""

from nova import objects
from nova.scheduler import weights
from nova.tests.unit.scheduler import fakes
from oslo_utils.fixture import uuidsentinel as uuids

from acaas_nova.scheduler.filters import acaas_filter
from acaas_nova.scheduler.weighers import acaas_weigher
from tests.unit.scheduler import snapshots
from tests.unit.scheduler.fake_runtime import FakeRuntime

objects.register_all()


def host(name, instances=()):
    return fakes.FakeHostState(
        name, name, {}, instances=[objects.Instance(uuid=u) for u in instances]
    )


def spec(hints=None, uuid=uuids.i1, ignore_hosts=None):
    obj = objects.RequestSpec(
        instance_uuid=uuid,
        user_id="alice",
        project_id="pa",
        scheduler_hints={k: [v] for k, v in (hints or {}).items()},
        flavor=objects.Flavor(extra_specs={}),
    )
    if ignore_hosts is not None:
        obj.ignore_hosts = ignore_hosts
    return obj


def ranked(rt, hosts, spec_obj):
    handler = weights.HostWeightHandler()
    weigher = acaas_weigher.ACaaSWeigher(runtime=rt)
    result = handler.get_weighed_objects([weigher], hosts, spec_obj)
    return [(w.obj.host, round(w.weight, 3)) for w in result]


def test_location_then_distance():
    rt = FakeRuntime()
    hosts = [host("h-em-us"), host("h-fr-a"), host("h-uk-a")]
    got = ranked(rt, hosts, spec({"acaas:location": "UK"}))
    assert [h for h, _ in got] == ["h-uk-a", "h-fr-a", "h-em-us"]
    assert got[0][1] == 10.0 and got[-1][1] == 0.0


def test_no_preference_means_equal_weights():
    rt = FakeRuntime()
    hosts = [host("h-em-us"), host("h-fr-a"), host("h-uk-a")]
    assert {w for _, w in ranked(rt, hosts, spec())} == {0.0}


def test_move_prefers_source_domain_then_backups():
    snap = snapshots.snapshot(
        nodes=[
            snapshots.node("src", "uk-b"),
            snapshots.node("b1", "uk-b"),
            snapshots.node("a1", "uk-a"),
            snapshots.node("f1", "fr-a"),
        ]
    )
    rt = FakeRuntime(snap)
    hosts = [host("f1"), host("a1"), host("b1")]
    got = ranked(rt, hosts, spec(ignore_hosts=["src"]))
    assert [h for h, _ in got] == ["b1", "a1", "f1"]
    # The instance found on a candidate host marks the source too.
    hosts = [host("f1"), host("a1"), host("b1"), host("src", [uuids.i1])]
    got = ranked(rt, hosts, spec())
    assert [h for h, _ in got][-1] == "f1"
    assert [h for h, _ in got][2] == "a1"


def test_reuses_the_filters_compiled_request():
    rt = FakeRuntime()
    spec_obj = spec({"acaas:location": "FR"})
    acaas_filter.ACaaSFilter(runtime=rt).filter_all([host("h-fr-a")], spec_obj)
    rt.fail_with = AssertionError("the weigher must not look up again")
    got = ranked(rt, [host("h-uk-a"), host("h-fr-a")], spec_obj)
    assert got[0][0] == "h-fr-a"


def test_invalid_request_gives_no_preference():
    rt = FakeRuntime()
    got = ranked(rt, [host("h-uk-a"), host("h-fr-a")], spec({"acaas:x": "1"}))
    assert {w for _, w in got} == {0.0}


def test_single_host_interface():
    rt = FakeRuntime()
    weigher = acaas_weigher.ACaaSWeigher(runtime=rt)
    spec_obj = spec({"acaas:location": "UK"})
    near = weigher._weigh_object(host("h-uk-a"), spec_obj)
    far = weigher._weigh_object(host("h-em-us"), spec_obj)
    assert near > far
    assert weigher.weight_multiplier(host("h-uk-a")) == 10.0
