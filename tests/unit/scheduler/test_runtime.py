"""The thread-safe caches of the scheduler runtime (no database here)."""

import threading
import time

import pytest

from acaas_nova import exception
from acaas_nova.scheduler import runtime
from tests.unit.scheduler import snapshots


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_snapshot_refreshed_by_age_only():
    loads = []
    clock = Clock()

    def load():
        loads.append(clock.now)
        return snapshots.snapshot()

    cache = runtime.SnapshotCache(load, lambda: 5.0, clock)
    first = cache.topology()
    clock.now = 4.9
    assert cache.topology() is first
    clock.now = 5.0
    assert cache.topology() is not first
    assert loads == [0.0, 5.0]
    cache.invalidate()
    cache.topology()
    assert len(loads) == 3


def test_load_error_propagates_and_nothing_is_cached():
    def load():
        raise exception.DBError(reason="down")

    cache = runtime.SnapshotCache(load, lambda: 5.0)
    with pytest.raises(exception.DBError):
        cache.topology()
    assert cache._current is None


def test_concurrent_readers_load_once():
    loads = []
    gate = threading.Event()

    def load():
        loads.append(1)
        gate.wait(1)
        return snapshots.snapshot()

    cache = runtime.SnapshotCache(load, lambda: 60.0)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.topology()))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    time.sleep(0.05)
    gate.set()
    for t in threads:
        t.join()
    assert len(loads) == 1
    assert len({id(r) for r in results}) == 1


def test_owner_cache_bounded():
    cache = runtime.OwnerCache(size=2)
    cache.update({"a": ("u", "p"), "b": ("u", "p")})
    assert cache.get("a") == ("u", "p")
    cache.update({"c": ("v", "q")})
    assert cache.get("a") is None
    assert cache.get("c") == ("v", "q")
