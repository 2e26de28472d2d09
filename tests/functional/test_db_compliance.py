"""Durable compliance state on SQLite, MariaDB and PostgreSQL."""

import pytest

from acaas_nova import exception
from acaas_nova.db import compliance
from acaas_nova.db import domains
from acaas_nova.db import locations


@pytest.fixture
def ctx(migrated):
    return migrated[1]


def test_one_open_action_per_subject(ctx):
    first, created = compliance.action_open(
        ctx, "migrate", "inst-1", "host h1 untrusted", source_host="h1"
    )
    again, created_again = compliance.action_open(
        ctx, "migrate", "inst-1", "second sweep", source_host="h1"
    )
    assert created and not created_again
    assert again.id == first.id and again.reason == "host h1 untrusted"
    # A different kind on the same subject is its own action.
    _, created_fence = compliance.action_open(ctx, "fence", "inst-1", "x")
    assert created_fence


def test_closing_an_action_frees_its_subject(ctx):
    action, _ = compliance.action_open(ctx, "fence", "h1", "untrusted")
    running = compliance.action_update(ctx, action.id, "running")
    assert running.is_open
    done = compliance.action_update(ctx, action.id, "done")
    assert not done.is_open
    new, created = compliance.action_open(ctx, "fence", "h1", "again")
    assert created and new.id != action.id


def test_update_is_compare_and_set(ctx):
    action, _ = compliance.action_open(ctx, "migrate", "inst-2", "why")
    compliance.action_update(ctx, action.id, "running", expect_state="pending")
    with pytest.raises(exception.Conflict, match="is running, not pending"):
        compliance.action_update(
            ctx, action.id, "running", expect_state="pending"
        )


def test_attempts_retry_time_and_error(ctx):
    action, _ = compliance.action_open(ctx, "migrate", "inst-3", "why")
    failed = compliance.action_update(
        ctx,
        action.id,
        "pending",
        error="x" * 5000,
        count_attempt=True,
        retry_after=30,
    )
    assert failed.attempts == 1
    assert failed.next_attempt_at is not None
    assert len(failed.error) == 2000


def test_unknown_kind_state_and_action(ctx):
    with pytest.raises(exception.Invalid, match="unknown action kind"):
        compliance.action_open(ctx, "evacuate", "inst", "why")
    action, _ = compliance.action_open(ctx, "migrate", "inst", "why")
    with pytest.raises(exception.Invalid, match="unknown action state"):
        compliance.action_update(ctx, action.id, "half-done")
    with pytest.raises(exception.NotFound):
        compliance.action_update(ctx, 99999, "done")


def test_list_by_state_and_fenced_hosts(ctx):
    fence_h1, _ = compliance.action_open(ctx, "fence", "h1", "untrusted")
    fence_h2, _ = compliance.action_open(ctx, "fence", "h2", "untrusted")
    compliance.action_update(ctx, fence_h1.id, "done")
    compliance.action_update(ctx, fence_h2.id, "done")
    unfence_h2, _ = compliance.action_open(ctx, "unfence", "h2", "trusted")
    compliance.action_update(ctx, unfence_h2.id, "done")
    pending = compliance.action_open(ctx, "fence", "h3", "untrusted")[0]
    assert compliance.fenced_hosts(ctx) == ["h1"]
    open_ids = [a.id for a in compliance.action_list(ctx, states=["pending"])]
    assert open_ids == [pending.id]
    assert [
        a.subject for a in compliance.action_list(ctx, kind="unfence")
    ] == ["h2"]


def test_breaker_flag(ctx):
    assert not compliance.breaker_open(ctx)
    compliance.flag_set(
        ctx, compliance.BREAKER, compliance.BREAKER_OPEN, "60% untrusted"
    )
    assert compliance.breaker_open(ctx)
    assert compliance.flag_get(ctx, compliance.BREAKER)[1] == "60% untrusted"
    compliance.flag_set(ctx, compliance.BREAKER, compliance.BREAKER_CLOSED)
    assert not compliance.breaker_open(ctx)


def test_maintenance_windows(ctx):
    locations.location_create(ctx, "UK")
    domains.domain_create(ctx, "d1", "UK")
    domains.domain_create(ctx, "d2", "UK")
    assert compliance.maintenance_set(ctx, "d1", True)
    assert not compliance.maintenance_set(ctx, "d1", True)
    assert list(compliance.maintenance_domains(ctx)) == ["d1"]
    assert compliance.maintenance_set(ctx, "d1", False)
    assert compliance.maintenance_domains(ctx) == {}
    with pytest.raises(exception.NotFound):
        compliance.maintenance_set(ctx, "nope", True)
