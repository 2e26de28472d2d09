"""Owners of the instances on a host, from nova's Instance objects."""

from nova import objects
from oslo_utils.fixture import uuidsentinel as uuids

from acaas_nova.scheduler import owners
from tests.unit.scheduler.fake_runtime import FakeRuntime

objects.register_all()


def inst(uuid, user=None, project=None):
    if user is None:
        return objects.Instance(uuid=uuid)
    return objects.Instance(uuid=uuid, user_id=user, project_id=project)


def test_known_owner():
    assert owners.known_owner(inst(uuids.a, "u", "p")) == ("u", "p")
    assert owners.known_owner(inst(uuids.a)) is None
    assert owners.known_owner(object()) is None


def test_summarize_fast_path():
    rt = FakeRuntime()
    instances = {
        uuids.a: inst(uuids.a, "u1", "p1"),
        uuids.b: inst(uuids.b, "u2", "p1"),
    }
    assert owners.summarize(rt, instances, None) == (
        {"u1", "u2"},
        {"p1"},
        None,
    )


def test_summarize_leaves_out_own_and_uses_cache():
    rt = FakeRuntime()
    rt.owners.update({uuids.c: ("u3", "p3")})
    instances = {
        uuids.a: inst(uuids.a, "u1", "p1"),
        uuids.me: inst(uuids.me, "me", "pm"),
        uuids.c: inst(uuids.c),
    }
    users, projects, unknown = owners.summarize(rt, instances, uuids.me)
    assert (users, projects, unknown) == ({"u1", "u3"}, {"p1", "p3"}, None)


def test_summarize_reports_unknown_and_fill_skips_contextless():
    rt = FakeRuntime()
    instances = {uuids.x: inst(uuids.x)}
    assert owners.summarize(rt, instances, None)[2] == uuids.x

    class Host:
        pass

    host = Host()
    host.instances = instances
    # No context on the object: nothing to query, nothing learnt.
    owners.fill(rt, [host])
    assert rt.owners.get(uuids.x) is None
