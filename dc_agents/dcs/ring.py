"""A consistent hash ring: which DC-S worker owns which compute node.

Pure (no I/O, no tooz): :mod:`dc_agents.dcs.coordination` feeds it the
group's members.  Each member is placed at ``replicas`` points of a 64-bit
circle; a key belongs to the member at the first point clockwise of the
key's own hash.  When a member joins it takes about 1/N of the keys, and
only from the others; when one leaves only its keys move.  Every worker
computes the same ring from the same member list (the hash is SHA-256, not
Python's salted ``hash``), so no assignment needs to be exchanged.
"""

import bisect
import hashlib
from collections.abc import Iterable
from collections.abc import Iterator


def _point(data: str) -> int:
    return int.from_bytes(
        hashlib.sha256(data.encode("utf-8")).digest()[:8], "big"
    )


def node_key(host: str, hypervisor_hostname: str) -> str:
    """The ring key of a compute node."""
    return "%s\x00%s" % (host, hypervisor_hostname)


class Ring:
    """Consistent hash ring over a set of member names."""

    def __init__(self, members: Iterable[str] = (), replicas: int = 64):
        if replicas < 1:
            raise ValueError("replicas must be at least 1")
        self.replicas = replicas
        self.members = frozenset(members)
        points = []
        for member in self.members:
            for i in range(replicas):
                points.append((_point("%s#%d" % (member, i)), member))
        # Ties (astronomically rare) resolve the same way everywhere.
        points.sort()
        self._hashes = [p for p, _m in points]
        self._owners = [m for _p, m in points]

    def __len__(self) -> int:
        return len(self.members)

    def owner(self, key: str) -> str | None:
        """The member owning ``key`` (None on an empty ring)."""
        if not self._hashes:
            return None
        index = bisect.bisect(self._hashes, _point(key))
        return self._owners[index % len(self._owners)]

    def share(self, keys: Iterable[str], member: str) -> Iterator[str]:
        """The keys among ``keys`` that ``member`` owns."""
        return (key for key in keys if self.owner(key) == member)
