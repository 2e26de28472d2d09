"""The enginefacade transaction context of acaas-nova's database.

Query modules decorate their functions with ``@context_manager.reader`` or
``@context_manager.writer``.  :func:`configure` (re)binds the facade to the
configured database; nothing connects at import time.
"""

import contextlib
import functools
import logging
import os
import random
import threading
import time

import sqlalchemy as sa
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade

from acaas_nova import exception
from acaas_nova.conf import database as database_conf
from acaas_nova.db import limits

context_manager = enginefacade.transaction_context()
# Column sizes are checked before SQL, alike on every backend.
limits.install()

LOG = logging.getLogger(__name__)
_LOCK = threading.Lock()
_configured_url = None
#: Times a transaction the database chose as a deadlock victim is run
#: again (from its start) before the error reaches the caller.
DEADLOCK_RETRIES = 5
# oslo.db options that are ours, not enginefacade's.
_NOT_FACADE_OPTS = {"state_path", "backend", "use_db_reconnect"}


def configure(conf, force=False, overrides=None):
    """Bind the facade to ``[acaas_database]`` of ``conf``.

    Safe to call repeatedly and from several threads; a new URL or new
    ``overrides`` (tests, ``force``) replace the previous engine.

    :param overrides: enginefacade options that win over the configured
        ones (nova-scheduler's timeouts, see scheduler/db_timeouts.py).
    """
    global _configured_url
    url = database_conf.connection_url(conf)
    key = (url, tuple(sorted((overrides or {}).items())))
    with _LOCK:
        if key == _configured_url and not force:
            return
        if url.startswith("sqlite:///"):
            os.makedirs(
                os.path.dirname(url[len("sqlite:///") :]), exist_ok=True
            )
        opts = {
            key: value
            for key, value in conf.acaas_database.items()
            if key not in _NOT_FACADE_OPTS and value is not None
        }
        opts["connection"] = url
        # SQLite enforces foreign keys only when asked to.
        opts["sqlite_fk"] = True
        opts.update(overrides or {})
        new = enginefacade.transaction_context()
        new.configure(**opts)
        context_manager.patch_factory(new)
        _configured_url = key


def dispose():
    """Close pooled connections (before a test drops its database)."""
    global _configured_url
    with _LOCK:
        if _configured_url is not None:
            context_manager.writer.get_engine().dispose()
            _configured_url = None


def get_engine():
    """The writer engine (for migrations and tests)."""
    return context_manager.writer.get_engine()


@contextlib.contextmanager
def _translated():
    try:
        yield
    except exception.ACaaSException:
        raise
    except db_exc.DBReferenceError as exc:
        raise exception.Conflict(
            reason="referenced object missing (%s)" % exc.key_table
        ) from exc
    except db_exc.DBConnectionError as exc:
        raise exception.DBError(
            reason="cannot connect to the ACaaS database"
        ) from exc
    except db_exc.DBError as exc:
        raise exception.DBError(reason=_first_line(exc)) from exc


def _outermost(args) -> bool:
    """Whether a query function called with ``args`` (context first)
    starts its own transaction rather than joining the caller's."""
    try:
        current = args[0].transaction_ctx
    except (IndexError, AttributeError, db_exc.NoEngineContextEstablished):
        return True
    return current is None


def translate_errors(func):
    """Translate driver errors into our exceptions at the DB boundary.

    Stack it outside ``@context_manager.reader``/``writer`` so that errors
    raised at commit time are translated too.  Duplicate entries are
    translated where they happen (the query knows what it was creating).

    A deadlock victim (MariaDB error 1213, PostgreSQL's "deadlock
    detected": the database rolled the whole transaction back) is run
    again from its start, up to DEADLOCK_RETRIES times, when the function
    owns its transaction; inside a caller's :func:`transaction` it is not
    (the caller's earlier statements were rolled back too) and becomes
    DBError like any other.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        retries = DEADLOCK_RETRIES if _outermost(args) else 0
        with _translated():
            while True:
                try:
                    return func(*args, **kwargs)
                except db_exc.DBDeadlock:
                    if retries <= 0:
                        raise
                    retries -= 1
                    LOG.debug(
                        "Deadlock in %s; running it again", func.__name__
                    )
                    time.sleep(random.uniform(0.005, 0.05))

    return wrapper


def delete_rows(session, model, *conditions) -> int:
    """Delete the rows of ``model`` matching ``conditions``, by primary key.

    A DELETE whose condition is a range or a non-unique column locks index
    gaps on MariaDB (REPEATABLE READ), and two transactions that each
    purge and then INSERT into such a gap deadlock.  The keys are read
    first (a plain read takes no lock) and exactly those rows deleted,
    which locks only them.  Returns how many were deleted.
    """
    (key,) = sa.inspect(model).primary_key
    keys = session.scalars(sa.select(key).where(*conditions)).all()
    if not keys:
        return 0
    return session.execute(
        sa.delete(model)
        .where(key.in_(keys))
        .execution_options(synchronize_session=False)
    ).rowcount


def purge_replaced(
    session, model, host, hypervisor_hostname, ek_fingerprint, now
):
    """Before a node's new pending row (registration challenge, or
    registration awaiting approval) is added: delete ``model``'s expired
    rows and the earlier ones of (host, hypervisor, EK), which it
    replaces (:func:`delete_rows`: no gap locks)."""
    return delete_rows(
        session,
        model,
        sa.or_(
            model.expires_at < now,
            sa.and_(
                model.host == host,
                model.hypervisor_hostname == hypervisor_hostname,
                model.ek_fingerprint == ek_fingerprint,
            ),
        ),
    )


@contextlib.contextmanager
def transaction(context):
    """One writer transaction for the block: the query functions called
    inside it with ``context`` join it, so their writes commit together
    or not at all (a crash in the block leaves none of them).  Errors,
    at commit too, are translated like :func:`translate_errors`."""
    with _translated(), context_manager.writer.using(context):
        yield


def _first_line(exc) -> str:
    text = str(getattr(exc, "inner_exception", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
