"""What goes into the event log: clean text, and not too much of it.

Events carry text that comes, in part, from outside (a host name a node
claimed, a reason from a refused message).  :func:`clean` makes it one
printable line of bounded length, so no event can forge extra log lines or
terminal escapes.  :class:`RateLimiter` is a token bucket per (subject,
event id): a burst of 1,000 refused messages from one node records a few
events and a count of the rest, instead of filling the database.  Pure:
standard library only.
"""

import threading
import time
from collections.abc import Callable

SUBJECT_LIMIT = 255
DETAIL_LIMIT = 2000
#: Buckets kept before the least recently used are forgotten.
MAX_KEYS = 10_000


def clean(text, limit: int) -> str:
    """One printable line of at most ``limit`` characters."""
    if not isinstance(text, str):
        text = repr(text)
    out = []
    for ch in text:
        if ch in "\r\n\t":
            out.append(" ")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append("\\x%02x" % ord(ch) if ord(ch) < 256 else "?")
    line = "".join(out)
    if len(line) > limit:
        line = line[: max(limit - 3, 0)] + "..."
    return line


class RateLimiter:
    """Token bucket per key: ``burst`` at once, then ``rate`` per second."""

    def __init__(
        self,
        burst: int,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = burst
        self.rate = rate
        self._clock = clock
        self._buckets: dict = {}
        self._lock = threading.Lock()

    def admit(self, key) -> tuple[bool, int]:
        """(admitted, events suppressed for ``key`` since the last one
        admitted); the count is reported once, with the admitted event."""
        now = self._clock()
        with self._lock:
            tokens, last, suppressed = self._buckets.pop(
                key, (float(self.burst), now, 0)
            )
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now, 0)
                admitted = (True, suppressed)
            else:
                self._buckets[key] = (tokens, now, suppressed + 1)
                admitted = (False, suppressed + 1)
            if len(self._buckets) > MAX_KEYS:
                # Dicts keep insertion order; popped keys are re-inserted
                # on use, so the first one is the least recently used.
                del self._buckets[next(iter(self._buckets))]
            return admitted
