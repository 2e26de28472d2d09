"""Access to the real parts functional tests need (databases, broker, swtpm,
Redis).

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


REDIS_HOST = os.environ.get("ACAAS_TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("ACAAS_TEST_REDIS_PORT", "6379"))


def require_redis() -> str:
    """The tooz backend URL of the test Redis, failing/skipping if absent
    (tools/services.sh starts it)."""
    require_port(REDIS_HOST, REDIS_PORT, "Redis")
    return "redis://%s:%d" % (REDIS_HOST, REDIS_PORT)
