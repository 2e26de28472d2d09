"""How long nova-scheduler may wait for the ACaaS database.

nova-scheduler must never hang on our database: a request that cannot be
judged fails closed within ``[acaas] db_timeout``.  The engine the
scheduler's :class:`~acaas_nova.scheduler.runtime.Runtime` binds therefore
gets driver-level timeouts, and oslo.db's start-up connection test (by
default 10 attempts 10 s apart, run again on every use while the database
is down) is switched off.  The snapshot loader adds a bound of its own on
top (see snapshot_cache.py), so even a driver without a read timeout (libpq
against a peer that stops answering) cannot hold a request longer.
"""

import urllib.parse


def _query(params: dict[str, object]) -> str:
    return urllib.parse.urlencode(params, quote_via=urllib.parse.quote)


def connection_parameters(url: str, timeout: int) -> str:
    """URL query parameters that bound every wait of the driver."""
    if url.startswith("mysql"):
        # PyMySQL: connect covers the TCP connect, read covers the
        # handshake and every result, write every request.
        return _query(
            {
                "connect_timeout": timeout,
                "read_timeout": timeout,
                "write_timeout": timeout,
            }
        )
    if url.startswith("postgresql"):
        return _query(
            {
                "connect_timeout": timeout,
                "options": "-c statement_timeout=%d" % (timeout * 1000),
            }
        )
    if url.startswith("sqlite"):
        # How long a reader waits for a writer's lock.
        return _query({"timeout": timeout})
    return ""


def engine_overrides(conf, url: str) -> dict[str, object]:
    """enginefacade options for the scheduler's engine."""
    timeout = int(conf.acaas.db_timeout)
    params = connection_parameters(url, timeout)
    configured = conf.acaas_database.connection_parameters
    if configured:
        params = "&".join(p for p in (configured, params) if p)
    overrides: dict[str, object] = {
        # No start-up connection test with retries: fail now, retry on
        # the next request.
        "max_retries": 0,
    }
    if not url.startswith("sqlite"):
        # Wait for a pooled connection no longer than for the database.
        overrides["pool_timeout"] = timeout
    if params:
        overrides["connection_parameters"] = params
    return overrides
