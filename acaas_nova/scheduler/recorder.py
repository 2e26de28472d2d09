"""Instance trust records written behind the scheduler, in batches.

The filter records every instance it schedules (its requirements, the
stored specification it named, its isolation wishes) so that later requests
honour them.  Writing that row while nova waits put a database transaction
on every request's path; :class:`TrustRecorder` takes it off:

* :meth:`TrustRecorder.submit` only puts the record in a bounded in-memory
  queue (a dict by instance uuid: a newer record of the same instance
  replaces a queued one) and wakes the writer thread;
* the writer thread writes everything queued in one transaction (one
  DELETE and one multi-row INSERT, see ``instances_db.
  instance_trust_set_many``) every ``flush_interval`` seconds, or at once
  when ``batch_size`` records are waiting;
* a failed write keeps the records queued and is retried, backing off up to
  :data:`MAX_BACKOFF` seconds; one error is logged per outage, not per try;
* a full queue (``capacity`` records: the database is down or far slower
  than the scheduler) never blocks on the queue: the scheduling thread
  writes its own record synchronously (bounded by ``[acaas] db_timeout``),
  and if that fails too it raises, so the filter refuses that request
  rather than place an instance whose isolation wishes would be forgotten;
* :meth:`TrustRecorder.stop` (nova's service stop, or ``atexit``) flushes
  what is queued before the process ends.

Readers that must see a record before it reaches the database (the
isolation look-up of the next request) read :attr:`TrustRecorder.overlay`,
a :class:`~acaas_nova.scheduler.constraints.ConstraintIndex` of every
queued constraining record plus those written less than
:data:`KEEP_AFTER_LOAD` seconds before the newest snapshot load started
(older ones are in that snapshot).
"""

import logging
import threading
import time
from collections.abc import Callable

from acaas_nova import exception
from acaas_nova.db import records
from acaas_nova.scheduler import constraints

LOG = logging.getLogger(__name__)

#: Longest pause between retries of a failing batch write (seconds).
MAX_BACKOFF = 5.0
#: Seconds a written record stays in the overlay after a snapshot load
#: started (covers a request still using the snapshot before that one).
KEEP_AFTER_LOAD = 5.0

WriteBatch = Callable[[list[records.InstanceTrust]], None]


class TrustRecorder:
    """A bounded write-behind queue of instance trust records."""

    def __init__(
        self,
        write_batch: WriteBatch,
        capacity: int = 10_000,
        flush_interval: float = 0.2,
        batch_size: int = 500,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._write_batch = write_batch
        self.capacity = capacity
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self._clock = clock
        self._lock = threading.Lock()
        # Serialises flushes (writer thread and stop()), never held by
        # the scheduling side.
        self._flush_lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pending: dict[str, records.InstanceTrust] = {}
        # uuid -> (record, monotonic time it was written)
        self._written: dict[str, tuple[records.InstanceTrust, float]] = {}
        #: Constraining records not yet in a snapshot; changed under
        #: the lock, read without it (see constraints.py).
        self.overlay = constraints.ConstraintIndex()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._failing = False
        #: Counters an operator (and the tests) can read.
        self.stats = {
            "queued": 0,
            "written": 0,
            "batches": 0,
            "failures": 0,
            "sync_writes": 0,
            "refused": 0,
        }

    # -- scheduling side ---------------------------------------------------

    def submit(self, record: records.InstanceTrust) -> None:
        """Queue ``record``; never waits for the database unless full.

        :raises DBError: the queue is full and the synchronous write of
            this record failed (the caller refuses the request).
        """
        with self._lock:
            if self._stopping:
                full = True
            else:
                full = (
                    len(self._pending) >= self.capacity
                    and record.instance_uuid not in self._pending
                )
            if not full:
                self._pending[record.instance_uuid] = record
                self.overlay.add(record)
                self.stats["queued"] += 1
                self._ensure_thread()
                if len(self._pending) >= self.batch_size:
                    self._wake.notify()
                return
        self._write_now(record)

    def _write_now(self, record: records.InstanceTrust) -> None:
        if not self._stopping:
            LOG.warning(
                "ACaaS trust record queue full (%d records); writing the "
                "record of instance %s synchronously",
                self.capacity,
                record.instance_uuid,
            )
        try:
            self._write_batch([record])
        except exception.ACaaSException:
            with self._lock:
                self.stats["refused"] += 1
            raise
        with self._lock:
            self.stats["sync_writes"] += 1
            self.stats["written"] += 1
            self._written[record.instance_uuid] = (record, self._clock())
            self.overlay.add(record)

    def recent(self) -> dict[str, records.InstanceTrust]:
        """Queued records and recently written ones, by instance uuid."""
        with self._lock:
            out = {uuid: rec for uuid, (rec, _) in self._written.items()}
            out.update(self._pending)
        return out

    def loaded(self, load_started: float) -> None:
        """A snapshot load that started at ``load_started`` succeeded.

        Records written well before it are in that snapshot: drop them
        from the overlay.
        """
        horizon = load_started - KEEP_AFTER_LOAD
        with self._lock:
            for uuid in [
                u for u, (_, at) in self._written.items() if at < horizon
            ]:
                del self._written[uuid]
                if uuid not in self._pending:
                    self.overlay.remove(uuid)

    def pending_count(self) -> int:
        with self._lock:
            return len(self._pending)

    # -- writer side -------------------------------------------------------

    def _ensure_thread(self) -> None:
        # Called with the lock held.
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._loop, name="acaas-trust-writer", daemon=True
            )
            self._thread.start()

    def _loop(self) -> None:
        delay = self.flush_interval
        while True:
            with self._lock:
                if not self._stopping and len(self._pending) < self.batch_size:
                    self._wake.wait(delay)
                if self._stopping:
                    return
            if self.flush():
                delay = self.flush_interval
            else:
                delay = min(max(delay * 2, 0.1), MAX_BACKOFF)

    def flush(self) -> bool:
        """Write every queued record now; False if the write failed."""
        with self._flush_lock:
            return self._flush()

    def _flush(self) -> bool:
        with self._lock:
            batch = list(self._pending.values())
        if not batch:
            return True
        for start in range(0, len(batch), self.batch_size):
            chunk = batch[start : start + self.batch_size]
            try:
                self._write_batch(chunk)
            except Exception as exc:
                with self._lock:
                    self.stats["failures"] += 1
                    first = not self._failing
                    self._failing = True
                (LOG.error if first else LOG.debug)(
                    "ACaaS cannot write %d instance trust records (kept "
                    "queued, retrying): %s",
                    len(self._pending),
                    exc,
                )
                return False
            now = self._clock()
            with self._lock:
                for rec in chunk:
                    # A newer record of the same instance stays queued.
                    if self._pending.get(rec.instance_uuid) is rec:
                        del self._pending[rec.instance_uuid]
                    self._written[rec.instance_uuid] = (rec, now)
                self.stats["written"] += len(chunk)
                self.stats["batches"] += 1
                if self._failing:
                    LOG.warning(
                        "ACaaS instance trust records are written again"
                    )
                self._failing = False
        return True

    def stop(self, timeout: float = 10.0) -> int:
        """Stop the writer and flush what is queued; records left unwritten.

        Retries the final flush until it succeeds or ``timeout`` passes; a
        record that still could not be written is logged by uuid.
        """
        with self._lock:
            self._stopping = True
            self._wake.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        deadline = self._clock() + timeout
        while not self.flush() and self._clock() < deadline:
            time.sleep(0.2)
        with self._lock:
            left = sorted(self._pending)
        if left:
            LOG.error(
                "ACaaS stopped with %d instance trust records unwritten: %s",
                len(left),
                ", ".join(left),
            )
        return len(left)
