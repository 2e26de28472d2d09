"""Read the IMA measurement list from a given entry on, cheaply.

DC-S asks for the entries after the last one it accepted.  Re-reading the
whole list for every attestation costs O(log size); the reader remembers
where each line it has seen starts, so it seeks straight to the requested
entry and reads only what follows (the kernel's list, like our test
files, only grows until a reboot).

A long-running node's first answer would carry its whole list (tens of
thousands of lines), more than one message should: :meth:`LogReader.
read_chunk` returns at most a given number of bytes of complete lines
and whether complete lines remain after them, so the agent sends the list
in chunks (``[dcc] max_log_bytes``).
"""

import threading
from typing import NamedTuple

from acaas_nova import exception


class Chunk(NamedTuple):
    """Lines of the list from an entry on, and whether more follow."""

    text: str
    more: bool
    lines: int


class LogReader:
    """Entries of one ASCII measurement list file, from an index on."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._starts: list[int] = [0]  # byte offset of each line seen
        self._lock = threading.Lock()

    def read_from(self, first: int) -> str:
        """The text of entries ``first``.. (complete lines only)."""
        return self.read_chunk(first, None).text

    def read_chunk(self, first: int, limit: int | None) -> Chunk:
        """Complete lines from entry ``first`` on, at most ``limit`` bytes
        of them (None: all), and whether complete lines remain after
        them.  A single line longer than ``limit`` comes alone (the
        receiver's own limit decides whether it is taken); a line still
        being written is never returned, nor counted as more."""
        if limit is not None and limit < 1:
            raise exception.ConfigError(
                reason="IMA log chunk limit must be positive, not %r" % limit
            )
        with self._lock:
            try:
                return self._read(first, limit)
            except OSError as exc:
                raise exception.ConfigError(
                    reason="cannot read IMA log %s: %s" % (self.path, exc)
                ) from None

    def _read(self, first: int, limit: int | None) -> Chunk:
        if first == 0:
            # A full read (first attestation, or after a reboot): the
            # positions seen before may belong to an older log.
            self._starts = [0]
        with open(self.path, "rb") as log:
            if first >= len(self._starts):
                # Skip forward from the last line start we know of.
                log.seek(self._starts[-1])
                index = len(self._starts) - 1
                while index < first:
                    line = log.readline()
                    if not line.endswith(b"\n"):
                        return Chunk("", False, 0)  # fewer entries (reboot?)
                    index += 1
                    self._starts.append(log.tell())
            else:
                log.seek(self._starts[first])
            data, more = self._lines(log, limit)
        pos = self._starts[first]
        index = first
        count = 0
        for line in data.splitlines(keepends=True):
            pos += len(line)
            index += 1
            count += 1
            if index == len(self._starts):
                self._starts.append(pos)
        return Chunk(data.decode("utf-8", "surrogateescape"), more, count)

    @staticmethod
    def _lines(log, limit):
        """(complete lines at the file position, at most ``limit`` bytes
        but at least one line; whether another complete line follows)."""
        if limit is None:
            data = log.read()
            return data[: data.rfind(b"\n") + 1], False
        data = log.read(limit)
        end = data.rfind(b"\n") + 1
        if end == 0 and len(data) == limit:
            # One line longer than the limit: it comes alone, if complete.
            data += log.readline()
            end = len(data) if data.endswith(b"\n") else 0
            after = log.readline()
        else:
            # The rest of the last line read, if cut by the limit, starts
            # the next chunk; it is "more" once it is complete.
            after = data[end:] + log.readline() if len(data) == limit else b""
        # A line being written is left for next time.
        return data[:end], after.endswith(b"\n")
