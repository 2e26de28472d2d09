"""Single-flight, bounded snapshot loads (a held loader plays the stalled DB).

No timed assertions: a "stall" is a loader blocked on an Event, and the
clock the cache uses is a fake one the test moves; real waits only carry
deadlines so that a defect fails the test instead of hanging it.
"""

import threading

import pytest

from acaas_nova import exception
from acaas_nova.scheduler import snapshot_cache
from tests.unit.scheduler import snapshots

DEADLINE = 10.0


class HeldLoader:
    def __init__(self):
        self.calls = 0
        self.release = threading.Event()
        self.entered = threading.Event()
        self.fail = None

    def __call__(self):
        self.calls += 1
        self.entered.set()
        assert self.release.wait(DEADLINE)
        if self.fail:
            raise self.fail
        return snapshots.snapshot()


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_requests_during_a_stall_share_one_load_and_give_up():
    load = HeldLoader()
    clock = Clock()
    cache = snapshot_cache.SnapshotCache(
        load, lambda: 5.0, clock, timeout=lambda: 2.0
    )
    # The load has been in flight longer than the timeout for everyone
    # who comes now: each request fails at once, none starts a load.
    errors = []

    def request():
        try:
            cache.topology()
        except exception.DBError as exc:
            errors.append(str(exc))

    first = threading.Thread(target=request)
    clock.now = 0.0
    first.start()
    assert load.entered.wait(DEADLINE)
    clock.now = 3.0  # past started + timeout
    first.join(DEADLINE)
    assert not first.is_alive()
    others = [threading.Thread(target=request) for _ in range(8)]
    for t in others:
        t.start()
    for t in others:
        t.join(DEADLINE)
        assert not t.is_alive()
    assert len(errors) == 9
    assert all("no answer from the ACaaS database" in e for e in errors)
    assert load.calls == 1 and cache.loads_started == 1
    # The database answers again: the next request loads and succeeds.
    load.release.set()
    for _ in range(100):
        if cache._inflight is None:
            break
        threading.Event().wait(0.05)
    assert cache.topology().nodes


def test_waiters_get_the_result_of_the_load_in_flight():
    load = HeldLoader()
    cache = snapshot_cache.SnapshotCache(
        load, lambda: 60.0, timeout=lambda: DEADLINE
    )
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.topology()))
        for _ in range(6)
    ]
    for t in threads:
        t.start()
    assert load.entered.wait(DEADLINE)
    load.release.set()
    for t in threads:
        t.join(DEADLINE)
    assert load.calls == 1
    assert len({id(r) for r in results}) == 1 and len(results) == 6


def test_failed_load_is_not_cached_and_next_request_retries():
    load = HeldLoader()
    load.release.set()
    load.fail = exception.DBError(reason="cannot connect")
    cache = snapshot_cache.SnapshotCache(
        load, lambda: 60.0, timeout=lambda: DEADLINE
    )
    with pytest.raises(exception.DBError, match="cannot connect"):
        cache.topology()
    load.fail = None
    assert cache.topology().nodes
    assert load.calls == 2


def test_unexpected_loader_error_becomes_db_error():
    def load():
        raise ValueError("malformed")

    cache = snapshot_cache.SnapshotCache(load, lambda: 1.0)
    with pytest.raises(exception.DBError, match="ValueError"):
        cache.topology()


def test_on_loaded_gets_the_load_start():
    seen = []
    clock = Clock()
    clock.now = 42.0
    cache = snapshot_cache.SnapshotCache(
        snapshots.snapshot, lambda: 1.0, clock, on_loaded=seen.append
    )
    cache.topology()
    assert seen == [42.0]


def test_a_load_stuck_for_ever_is_abandoned_for_a_fresh_one():
    stuck = HeldLoader()
    clock = Clock()
    loads = [stuck, snapshots.snapshot]
    cache = snapshot_cache.SnapshotCache(
        lambda: loads.pop(0)(), lambda: 5.0, clock, timeout=lambda: 1.0
    )
    done = threading.Event()

    def first():
        try:
            cache.topology()
        except exception.DBError:
            done.set()

    t = threading.Thread(target=first)
    t.start()
    assert stuck.entered.wait(DEADLINE)
    assert done.wait(DEADLINE)  # gave up after its 1 s
    clock.now = 1.0 + snapshot_cache.ABANDON_AFTER * 1.0
    assert cache.topology().nodes  # a fresh load, not the stuck one
    assert cache.loads_started == 2
    stuck.release.set()  # its late result is dropped
    t.join(DEADLINE)
