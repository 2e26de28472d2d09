"""Per-node re-attestation timers: one heap, one thread, a worker pool.

The chapter associates a timer with each compute node (§12.4.2).  A
thread per node does not scale to thousands of nodes on a small
controller, so the timers live in one heap ordered by due time; a single
thread sleeps until the earliest one and hands due nodes to a small pool
of worker threads.  A node is never attested twice at once: its next timer
is armed only when its job has finished, one interval (plus jitter) after
the previous due time -- or at once if the job ran that long.

Lateness (how long after its due time a job started) is recorded so the
benchmark and operators can see whether the pool keeps up.
"""

import concurrent.futures
import heapq
import itertools
import logging
import random
import threading
import time
from collections.abc import Callable
from collections.abc import Hashable

LOG = logging.getLogger(__name__)


class TimerStats:
    """Counters of jobs run and their lateness (seconds)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs = 0
        self.failures = 0
        self.max_lateness = 0.0
        self.total_lateness = 0.0

    def record(self, lateness: float, ok: bool) -> None:
        with self.lock:
            self.jobs += 1
            self.failures += 0 if ok else 1
            self.total_lateness += lateness
            self.max_lateness = max(self.max_lateness, lateness)


class TimerWheel:
    """Runs ``job(key)`` for every added key, every ``interval`` seconds.

    A job that returns False is not re-armed (the node left); one that
    raises is logged and re-armed.
    """

    def __init__(
        self,
        job: Callable[[Hashable], bool | None],
        interval: float,
        jitter: float = 0.0,
        workers: int = 4,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.job = job
        self.interval = interval
        self.jitter = jitter
        self.clock = clock
        self.stats = TimerStats()
        self._heap: list[tuple[float, int, Hashable]] = []
        self._armed: dict[Hashable, int] = {}  # key -> live heap entry seq
        self._running: set[Hashable] = set()
        self._rerun: set[Hashable] = set()
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopping = False
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="attest"
        )
        self._thread = threading.Thread(
            target=self._run, name="attest-timers", daemon=True
        )

    # -- control -----------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop arming timers; wait for running jobs to finish."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def add(self, key: Hashable, delay: float | None = None) -> None:
        """Arm the timer of ``key`` (default: randomly within an interval,
        which spreads nodes known at start-up over the interval)."""
        if delay is None:
            delay = random.uniform(0, self.interval)
        with self._cond:
            if key in self._running:
                self._rerun.add(key)
                return
            self._arm(key, self.clock() + delay)

    def trigger(self, key: Hashable) -> None:
        """Attest ``key`` as soon as a worker is free."""
        self.add(key, 0.0)

    def remove(self, key: Hashable) -> None:
        """Disarm ``key``; a running job finishes but is not re-armed."""
        with self._cond:
            self._armed.pop(key, None)
            self._rerun.discard(key)

    def __contains__(self, key: Hashable) -> bool:
        with self._cond:
            return key in self._armed or key in self._running

    def __len__(self) -> int:
        with self._cond:
            return len(set(self._armed) | self._running)

    # -- internals -----------------------------------------------------------

    def _arm(self, key: Hashable, due: float) -> None:
        seq = next(self._seq)
        self._armed[key] = seq
        heapq.heappush(self._heap, (due, seq, key))
        if self._heap[0][1] == seq:
            self._cond.notify()

    def _next_due(self, due: float) -> float:
        spread = self.interval * self.jitter
        return due + self.interval + random.uniform(-spread, spread)

    def _run(self) -> None:
        with self._cond:
            while not self._stopping:
                if not self._heap:
                    self._cond.wait()
                    continue
                due, seq, key = self._heap[0]
                if self._armed.get(key) != seq:
                    heapq.heappop(self._heap)  # disarmed or re-armed
                    continue
                wait = due - self.clock()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                del self._armed[key]
                self._running.add(key)
                self._pool.submit(self._execute, key, due)

    def _execute(self, key: Hashable, due: float) -> None:
        start = self.clock()
        ok = keep = False
        try:
            keep = ok = self.job(key) is not False
        except Exception:
            # A job's own failure must never stop the node's timer.
            LOG.exception("Attestation job for %s failed", key)
            keep = True
        lateness = max(0.0, start - due)
        self.stats.record(lateness, ok)
        if lateness > self.interval / 2:
            LOG.warning(
                "Attestation of %s started %.1fs late: add workers "
                "([dcs] attestation_workers) or lengthen the interval",
                key,
                lateness,
            )
        with self._cond:
            self._running.discard(key)
            if self._stopping:
                return
            if key in self._rerun:
                self._rerun.discard(key)
                self._arm(key, self.clock())
            elif keep:
                self._arm(key, max(self._next_due(due), self.clock()))
