"""The heap-based timer wheel of DC-S (real threads, short intervals)."""

import threading
import time

from dc_agents.dcs import timers


def _wait(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_each_key_runs_every_interval():
    runs = {}
    lock = threading.Lock()

    def job(key):
        with lock:
            runs[key] = runs.get(key, 0) + 1

    wheel = timers.TimerWheel(job, interval=0.05, jitter=0.1, workers=2)
    wheel.start()
    try:
        for key in range(20):
            wheel.add(key)
        _wait(lambda: len(runs) == 20 and min(runs.values()) >= 3)
    finally:
        wheel.stop()
    assert wheel.stats.jobs >= 60
    assert wheel.stats.failures == 0
    assert len(wheel) == 20


def test_false_stops_and_exception_rearms():
    calls = {"gone": 0, "boom": 0}

    def job(key):
        calls[key] += 1
        if key == "boom":
            raise RuntimeError("transient")
        return False

    wheel = timers.TimerWheel(job, interval=0.02, workers=1)
    wheel.start()
    try:
        wheel.add("gone", 0)
        wheel.add("boom", 0)
        _wait(lambda: calls["boom"] >= 3)
    finally:
        wheel.stop()
    assert calls["gone"] == 1
    assert "gone" not in wheel
    assert wheel.stats.failures >= 3


def test_never_runs_one_key_twice_at_once():
    active = set()
    overlaps = []
    done = []

    def job(key):
        if key in active:
            overlaps.append(key)
        active.add(key)
        time.sleep(0.03)  # longer than the interval
        active.discard(key)
        done.append(key)

    wheel = timers.TimerWheel(job, interval=0.01, workers=4)
    wheel.start()
    try:
        wheel.add("a", 0)
        for _ in range(5):
            wheel.trigger("a")
        _wait(lambda: len(done) >= 4)
    finally:
        wheel.stop()
    assert overlaps == []


def test_remove_disarms_and_trigger_runs_now():
    runs = []
    wheel = timers.TimerWheel(runs.append, interval=60.0, workers=1)
    wheel.start()
    try:
        wheel.add("x")  # somewhere in the next minute
        wheel.add("y", 0)
        wheel.remove("x")
        _wait(lambda: runs == ["y"])
        start = time.monotonic()
        wheel.trigger("y")
        _wait(lambda: runs == ["y", "y"])
        assert time.monotonic() - start < 1.0
    finally:
        wheel.stop()
    assert "x" not in wheel
    assert wheel.stats.max_lateness < 1.0


def test_stop_waits_for_running_job():
    started = threading.Event()
    finished = []

    def job(key):
        started.set()
        time.sleep(0.1)
        finished.append(key)

    wheel = timers.TimerWheel(job, interval=10.0, workers=1)
    wheel.start()
    wheel.add("k", 0)
    started.wait(5)
    wheel.stop()
    assert finished == ["k"]
