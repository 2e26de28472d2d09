"""Isolation is not weakened while records wait in the write-behind queue.

The writer is held (the database has not seen either record); the second
request must still see the first one's exclusion, through the real
Runtime.constraints path (snapshot index merged with the queue).
"""

import threading

from nova import objects
from nova.tests.unit.scheduler import fakes
from oslo_utils.fixture import uuidsentinel as uuids

from acaas_nova.scheduler import recorder
from acaas_nova.scheduler import runtime
from acaas_nova.scheduler.filters import acaas_filter
from tests.unit.scheduler.fake_runtime import FakeRuntime

objects.register_all()


class QueuedRuntime(FakeRuntime):
    """FakeRuntime with the real queue and the real isolation look-up."""

    def __init__(self):
        super().__init__()
        self.release = threading.Event()
        self.written = []
        self.recorder = recorder.TrustRecorder(
            self._write, flush_interval=0.01
        )

    def _write(self, batch):
        assert self.release.wait(10), "writer never released"
        self.written.extend(batch)

    constraints = runtime.Runtime.constraints
    exclusive_owners = runtime.Runtime.exclusive_owners
    record = runtime.Runtime.record


def boot(rt, flt, user, project, uuid, hints, hosts):
    spec = objects.RequestSpec(
        user_id=user,
        project_id=project,
        instance_uuid=uuid,
        scheduler_hints={k: [v] for k, v in hints.items()},
        flavor=objects.Flavor(extra_specs={}),
    )
    return [h.host for h in flt.filter_all(hosts, spec)]


def test_two_quick_boots_with_mutual_exclusion_do_not_share_a_host():
    rt = QueuedRuntime()
    flt = acaas_filter.ACaaSFilter(runtime=rt)
    # Alice's server lands on h-uk-a (nova would now list it there).
    first = boot(
        rt,
        flt,
        "alice",
        "pa",
        uuids.a1,
        {"acaas:exclude_users": "bob", "acaas:location": "UK"},
        [fakes.FakeHostState("h-uk-a", "h-uk-a", {})],
    )
    assert first == ["h-uk-a"]
    assert rt.written == []  # nothing reached the database yet
    hosts = [
        fakes.FakeHostState(
            "h-uk-a", "h-uk-a", {}, instances=[objects.Instance(uuid=uuids.a1)]
        ),
        fakes.FakeHostState("h-uk-b", "h-uk-b", {}),
    ]
    # Bob asks for nothing, yet avoids Alice's host; and the reverse: his
    # own exclusion of alice keeps him off it too.
    for hints in ({}, {"acaas:exclude_users": "alice"}):
        got = boot(rt, flt, "bob", "pb", uuids.b1, hints, hosts)
        assert got == ["h-uk-b"]
    rt.release.set()
    assert rt.recorder.stop(10) == 0
    assert {r.instance_uuid for r in rt.written} == {uuids.a1, uuids.b1}


def test_queued_exclusive_instance_keeps_other_projects_away():
    rt = QueuedRuntime()
    flt = acaas_filter.ACaaSFilter(runtime=rt)
    hint = {"acaas:isolation": "exclusive", "acaas:location": "UK"}
    first = boot(
        rt,
        flt,
        "alice",
        "pa",
        uuids.ax,
        hint,
        [fakes.FakeHostState("h-uk-a", "h-uk-a", {})],
    )
    assert first == ["h-uk-a"]
    hosts = [
        fakes.FakeHostState(
            "h-uk-a", "h-uk-a", {}, instances=[objects.Instance(uuid=uuids.ax)]
        ),
        fakes.FakeHostState("h-uk-b", "h-uk-b", {}),
    ]
    assert boot(rt, flt, "bob", "pb", uuids.bx, {}, hosts) == ["h-uk-b"]
    # Alice's project may still join.
    got = boot(rt, flt, "carol", "pa", uuids.cx, {}, hosts)
    assert got == ["h-uk-a", "h-uk-b"]
    rt.release.set()
    assert rt.recorder.stop(10) == 0
