"""Attestation rounds: one challenge to many nodes, each quote still bound
to a fresh, single-use nonce that DC-S issued (see docs/daemons.rst).

A DC-S worker does not call every node in turn.  For one partition of the
nodes it owns it opens a *round*: a random round id and a fresh random
32-byte round nonce ``R``, sent once (one fanout cast) to every node of the
partition together with the IMA offset each listed node must send from.
Node ``n`` quotes with the nonce::

    SHA-256("acaas-round-v1" 0x00 || R || worker || 0x00 || n)

so its quote is bound to this round (``R`` is unpredictable before the
round is opened), to the worker that opened it and to the node itself (no
other node's answer matches it).  The answer travels back as a cast; the
worker *claims* the node's ask in its book, which succeeds once only and
only before the round's deadline.  Everything else -- an unknown or
expired round, a node that was not asked, a second answer -- is refused
before any verification.  Unanswered asks expire into ``unknown``.

Pure: no oslo, no database; the clock and the randomness are injectable.
"""

import dataclasses
import hashlib
import os
import threading
import time
from collections.abc import Callable
from collections.abc import Hashable
from collections.abc import Iterable

DOMAIN = b"acaas-round-v1\x00"
NONCE_BYTES = 32


def node_nonce(round_nonce: bytes, worker: str, node: str) -> bytes:
    """The qualifying data node ``node`` quotes with in a round."""
    return hashlib.sha256(
        DOMAIN
        + round_nonce
        + worker.encode("utf-8")
        + b"\x00"
        + node.encode("utf-8")
    ).digest()


def partition(node: str, partitions: int) -> int:
    """The partition (0 .. partitions-1) of a node identity: stable across
    processes and restarts (not Python's salted hash)."""
    digest = hashlib.sha256(node.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % partitions


class RoundRefused(Exception):
    """An answer that does not match an open ask (dropped unverified)."""


@dataclasses.dataclass(frozen=True)
class Ask:
    """What DC-S asked one node in one round."""

    key: Hashable
    node: str
    round_id: str
    nonce: bytes
    offset: int
    full: bool
    expires: float
    context: object = None  # the caller's per-node data (registration)


class RoundBook:
    """Open asks of one worker, by round and node."""

    def __init__(
        self,
        worker: str,
        deadline: float,
        clock: Callable[[], float] = time.monotonic,
        randbytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.worker = worker
        self.deadline = deadline
        self.clock = clock
        self.randbytes = randbytes
        self._rounds: dict[str, dict[str, Ask]] = {}
        self._expiry: dict[str, float] = {}
        self._open_keys: set[Hashable] = set()
        self._lock = threading.Lock()

    def open(
        self, asks: Iterable[tuple[Hashable, str, int, bool, object]]
    ) -> tuple[str, bytes, list[Ask]]:
        """Open a round for (key, node, offset, full, context) items.

        A node that still has an open ask is left out (never asked twice
        at once).  Returns (round id, round nonce, the asks made).
        """
        round_id = self.randbytes(8).hex()
        round_nonce = self.randbytes(NONCE_BYTES)
        expires = self.clock() + self.deadline
        made: dict[str, Ask] = {}
        with self._lock:
            for key, node, offset, full, context in asks:
                if key in self._open_keys or node in made:
                    continue
                made[node] = Ask(
                    key,
                    node,
                    round_id,
                    node_nonce(round_nonce, self.worker, node),
                    offset,
                    full,
                    expires,
                    context,
                )
                self._open_keys.add(key)
            if made:
                self._rounds[round_id] = made
                self._expiry[round_id] = expires
        return round_id, round_nonce, list(made.values())

    def claim(self, round_id: str, node: str, at: float | None = None) -> Ask:
        """The ask an answer responds to; it can be claimed once.

        ``at`` is when the answer arrived (default: now): an answer that
        arrived in time is not refused for waiting in a queue.
        """
        at = self.clock() if at is None else at
        with self._lock:
            asks = self._rounds.get(round_id)
            if asks is None:
                raise RoundRefused("unknown or expired round %s" % round_id)
            ask = asks.get(node)
            if ask is None:
                raise RoundRefused(
                    "node %s was not asked in round %s, or has answered"
                    % (node, round_id)
                )
            if at > ask.expires:
                raise RoundRefused(
                    "answer of %s to round %s after its deadline"
                    % (node, round_id)
                )
            del asks[node]
            self._open_keys.discard(ask.key)
            if not asks:
                del self._rounds[round_id]
                del self._expiry[round_id]
            return ask

    def peek(self, round_id: str, node: str) -> Ask | None:
        """The open ask an answer claims to respond to, left open (the
        caller checks the answer's MAC before it claims the ask: a forged
        answer must not use up the node's)."""
        with self._lock:
            return self._rounds.get(round_id, {}).get(node)

    def expire(self, now: float | None = None) -> list[Ask]:
        """Remove and return every ask whose deadline had passed at ``now``
        (default: the present)."""
        now = self.clock() if now is None else now
        out: list[Ask] = []
        with self._lock:
            for round_id, expires in list(self._expiry.items()):
                if expires >= now:
                    continue
                out.extend(self._rounds.pop(round_id).values())
                del self._expiry[round_id]
            for ask in out:
                self._open_keys.discard(ask.key)
        return out

    def is_open(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._open_keys

    def __len__(self) -> int:
        with self._lock:
            return sum(len(asks) for asks in self._rounds.values())
