"""Serialise DC-S's database writes when the database is SQLite.

SQLite allows one writer, and two transactions that both read before
writing deadlock: one of them fails at once with "database is locked"
instead of waiting.  DC-S's attestation workers write concurrently, so on
SQLite (the embedded default) their writes take one process-wide lock;
MariaDB and PostgreSQL need no such thing and run them in parallel.
"""

import contextlib
import threading
from collections.abc import Iterator

from acaas_nova.conf import database as database_conf

_LOCK = threading.RLock()
_serialise = threading.Event()


def configure(conf) -> None:
    """Serialise writes iff ``[acaas_database]`` is SQLite."""
    if database_conf.connection_url(conf).startswith("sqlite"):
        _serialise.set()
    else:
        _serialise.clear()


@contextlib.contextmanager
def writing() -> Iterator[None]:
    """Hold the write lock (on SQLite only) for the block."""
    if not _serialise.is_set():
        yield
        return
    with _LOCK:
        yield
