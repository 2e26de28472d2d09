"""Quote nonces: issued to one node, used once, valid for a short time.

A quote proves freshness only if its nonce was issued by this verifier to
*this* node for *this* request and was never accepted before.
:class:`NonceBook` keeps the outstanding nonces per node: :meth:`issue`
makes one, :meth:`consume` checks and retires it, raising
:class:`~acaas_nova.attestation.errors.NonceNotIssued` when it was issued
to another node, already used, expired or never issued.  The book is
bounded (``max_outstanding`` per node, ``max_nodes`` overall; the oldest
go first), so a flood of requests cannot exhaust memory.

Pure: standard library only; the clock is injected.
"""

import hmac
import os
import threading
import time
from collections import OrderedDict

from acaas_nova.attestation import errors
from acaas_nova.attestation import inputs

NONCE_SIZE = 32


class NonceBook:
    """Outstanding nonces per node (thread-safe)."""

    def __init__(
        self,
        ttl: float = 60.0,
        max_outstanding: int = 4,
        max_nodes: int = 100000,
        clock=time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_outstanding = max_outstanding
        self.max_nodes = max_nodes
        self.clock = clock
        self._lock = threading.Lock()
        # node -> OrderedDict(nonce -> expiry)
        self._nodes: OrderedDict[str, OrderedDict[bytes, float]] = (
            OrderedDict()
        )
        # nonce -> node, to name the node a misdirected nonce belongs to
        self._owner: dict[bytes, str] = {}

    def issue(self, node: str) -> bytes:
        """A fresh nonce for ``node``'s next quote."""
        node = _node(node)
        nonce = os.urandom(NONCE_SIZE)
        with self._lock:
            book = self._nodes.pop(node, None) or OrderedDict()
            self._nodes[node] = book  # most recently used last
            book[nonce] = self.clock() + self.ttl
            self._owner[nonce] = node
            while len(book) > self.max_outstanding:
                old, _ = book.popitem(last=False)
                self._owner.pop(old, None)
            while len(self._nodes) > self.max_nodes:
                _, dropped = self._nodes.popitem(last=False)
                for old in dropped:
                    self._owner.pop(old, None)
        return nonce

    def consume(self, node: str, nonce) -> None:
        """Accept ``nonce`` for ``node`` once, or raise NonceNotIssued."""
        node = _node(node)
        nonce = inputs.nonce(nonce)
        now = self.clock()
        with self._lock:
            book = self._nodes.get(node, {})
            match = next(
                (n for n in book if hmac.compare_digest(n, nonce)), None
            )
            if match is None:
                owner = self._owner.get(nonce)
                if owner is not None and owner != node:
                    raise errors.NonceNotIssued(
                        reason="the nonce was issued to another node"
                    )
                raise errors.NonceNotIssued(
                    reason="the nonce was not issued to this node or was "
                    "already used"
                )
            expiry = book.pop(match)
            self._owner.pop(match, None)
            if not book:
                self._nodes.pop(node, None)
        if now > expiry:
            raise errors.NonceNotIssued(
                reason="the nonce expired %.1f s ago" % (now - expiry)
            )

    def outstanding(self, node: str | None = None) -> int:
        """Nonces not yet used (for ``node``, or overall)."""
        with self._lock:
            if node is not None:
                return len(self._nodes.get(node, ()))
            return sum(len(b) for b in self._nodes.values())


def _node(node) -> str:
    if not isinstance(node, str) or not node or len(node) > 255:
        raise errors.MalformedInput(
            what="node name", reason="must be a non-empty string of <= 255"
        )
    return node
