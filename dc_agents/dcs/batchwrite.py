"""Unchanged attestation outcomes, written in batches.

Most re-attestations of a trusted node change nothing but its time (and
the TPM clock in its verifier state, which DC-S keeps in memory: see
Attester).  Writing each one at once costs a transaction per node; this
writer collects them and writes up to ``max_items`` of them in one
statement, at most ``interval`` seconds after the first was added.  A
stop flushes what is pending, so a clean stop loses nothing.  Changes of
status never come here: they are written at once.

``flush_fn(items)`` does the writing and returns the keys it could not
write (the node changed elsewhere); ``on_missed(key)`` is told about each.
"""

import logging
import threading
import time
from collections.abc import Callable
from collections.abc import Hashable
from typing import Any

LOG = logging.getLogger(__name__)


class BatchWriter:
    """Collects (key, item) pairs and flushes them in batches."""

    def __init__(
        self,
        flush_fn: Callable[[list[Any]], list[Hashable]],
        interval: float = 0.5,
        max_items: int = 1000,
        on_missed: Callable[[Hashable], None] | None = None,
    ) -> None:
        self.flush_fn = flush_fn
        self.interval = interval
        self.max_items = max_items
        self.on_missed = on_missed
        self.written = 0
        self.flushes = 0
        self._pending: dict[Hashable, Any] = {}
        self._first = 0.0
        self._cond = threading.Condition()
        self._flush_lock = threading.Lock()
        self._stopping = False
        self._thread = threading.Thread(
            target=self._run, name="attest-batch", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def add(self, key: Hashable, item: Any) -> None:
        """Queue ``item`` for ``key``; a newer item for the same key
        replaces an unwritten older one (only the latest matters)."""
        with self._cond:
            first = not self._pending
            if first:
                self._first = time.monotonic()
            self._pending[key] = item
            if first or len(self._pending) >= self.max_items:
                self._cond.notify()  # start the clock, or flush now

    def discard(self, key: Hashable) -> None:
        """Drop an unwritten item (its node changed: written elsewhere)."""
        with self._cond:
            self._pending.pop(key, None)

    def __len__(self) -> int:
        with self._cond:
            return len(self._pending)

    def flush(self) -> int:
        """Write everything pending now; returns how many were written."""
        with self._flush_lock:
            with self._cond:
                batch, self._pending = self._pending, {}
            if not batch:
                return 0
            try:
                missed = self.flush_fn(list(batch.values()))
            except Exception:
                # The database is away: keep the items (newer ones win)
                # and try again at the next flush.
                LOG.exception(
                    "Writing %d attestation times failed", len(batch)
                )
                with self._cond:
                    for key, item in batch.items():
                        self._pending.setdefault(key, item)
                return 0
            self.flushes += 1
            self.written += len(batch) - len(missed)
            for key in missed:
                if self.on_missed is not None:
                    self.on_missed(key)
            return len(batch) - len(missed)

    def stop(self) -> None:
        """Stop the flushing thread after a last flush."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join()
        self.flush()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    if len(self._pending) >= self.max_items:
                        break
                    if self._pending:
                        wait = self._first + self.interval - time.monotonic()
                        if wait <= 0:
                            break
                    else:
                        wait = None
                    self._cond.wait(wait)
                if self._stopping:
                    return
            self.flush()
