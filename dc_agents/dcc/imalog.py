"""Read the IMA measurement list from a given entry on, cheaply.

DC-S asks for the entries after the last one it accepted.  Re-reading the
whole list for every attestation costs O(log size); the reader remembers
where each line it has seen starts, so it seeks straight to the requested
entry and reads only what follows (the kernel's list, like our test
files, only grows until a reboot).
"""

import threading

from acaas_nova import exception


class LogReader:
    """Entries of one ASCII measurement list file, from an index on."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._starts: list[int] = [0]  # byte offset of each line seen
        self._lock = threading.Lock()

    def read_from(self, first: int) -> str:
        """The text of entries ``first``.. (complete lines only)."""
        with self._lock:
            try:
                return self._read(first)
            except OSError as exc:
                raise exception.ConfigError(
                    reason="cannot read IMA log %s: %s" % (self.path, exc)
                ) from None

    def _read(self, first: int) -> str:
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
                        return ""  # the log has fewer entries (reboot?)
                    index += 1
                    self._starts.append(log.tell())
            else:
                log.seek(self._starts[first])
            data = log.read()
        end = data.rfind(b"\n") + 1
        data = data[:end]  # a line being written is left for next time
        pos = self._starts[first]
        index = first
        for line in data.splitlines(keepends=True):
            pos += len(line)
            index += 1
            if index == len(self._starts):
                self._starts.append(pos)
        return data.decode("utf-8", "surrogateescape")

    def reset(self) -> None:
        """Forget line positions (after the log started over)."""
        with self._lock:
            self._starts = [0]
