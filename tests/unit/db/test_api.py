"""The DB boundary: driver errors translated, deadlock victims re-run only
where the function owns its transaction.  No database: the functions
under test raise oslo.db's exceptions themselves."""

import pytest
from oslo_db import exception as db_exc

from acaas_nova import exception
from acaas_nova.db import api


class Context:
    """A request context outside any transaction."""


class InTransaction:
    """A request context inside a caller's transaction."""

    transaction_ctx = object()


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(api.time, "sleep", lambda seconds: None)


def _flaky(deadlocks):
    calls = []

    @api.translate_errors
    def query(context, value):
        calls.append(value)
        if len(calls) <= deadlocks:
            raise db_exc.DBDeadlock()
        return value * 2

    return query, calls


def test_a_deadlock_victim_is_run_again_from_its_start():
    query, calls = _flaky(2)
    assert query(Context(), 21) == 42
    assert calls == [21, 21, 21]


def test_deadlocks_beyond_the_retries_become_db_error():
    query, calls = _flaky(api.DEADLOCK_RETRIES + 1)
    with pytest.raises(exception.DBError):
        query(Context(), 1)
    assert len(calls) == api.DEADLOCK_RETRIES + 1


def test_inside_a_callers_transaction_nothing_is_re_run():
    query, calls = _flaky(1)
    with pytest.raises(exception.DBError):
        query(InTransaction(), 1)
    assert calls == [1]


def test_other_errors_are_not_retried():
    calls = []

    @api.translate_errors
    def query(context):
        calls.append(1)
        raise db_exc.DBConnectionError()

    with pytest.raises(exception.DBError, match="cannot connect"):
        query(Context())
    assert calls == [1]


def test_our_own_errors_pass_unchanged():
    @api.translate_errors
    def query(context):
        raise exception.Conflict(reason="taken")

    with pytest.raises(exception.Conflict, match="taken"):
        query(Context())
