"""Access to the real parts functional tests need (databases, broker, swtpm).

A missing part skips a test on a developer's machine, but fails it when the
``CI`` environment variable is set: CI must never pass by skipping.
"""

import os
import shutil
import socket

import pytest


def in_ci() -> bool:
    """True when running under CI (the ``CI`` variable is set and not 0)."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def require(available: bool, what: str) -> None:
    """Fail (under CI) or skip (elsewhere) the test unless available."""
    if available:
        return
    if in_ci():
        pytest.fail("required real part missing under CI: %s" % what)
    pytest.skip("real part missing: %s" % what)


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether a TCP server accepts connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_port(host: str, port: int, what: str) -> None:
    require(port_open(host, port), "%s at %s:%d" % (what, host, port))


def require_program(name: str) -> str:
    """Return the path of an executable, failing/skipping if absent."""
    path = shutil.which(name)
    require(path is not None, "program %s" % name)
    return path
