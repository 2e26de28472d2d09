"""The event log: clean text, rate limits, retention (every backend)."""

import datetime

import pytest
import sqlalchemy as sa

from acaas_nova.db import api as db_api
from acaas_nova.db import events as events_db
from acaas_nova.db import models
from dc_agents.dcs import eventlog
from tests.functional import manage_cli

EVENT = ("ACAAS-DCS-001", "warning")


@pytest.fixture
def ctx(migrated):
    conf, ctx = migrated
    eventlog.configure(conf)
    yield ctx
    eventlog.configure(conf)  # fresh buckets for the next test


def test_a_burst_of_refusals_records_a_few_events_and_a_count(ctx):
    for _ in range(1000):
        eventlog.record(ctx, "n1", EVENT, "malformed quote")
    assert len(events_db.event_list(ctx, subject="n1", limit=2000)) == 10
    # Another node is not affected by n1's burst.
    assert eventlog.record(ctx, "n2", EVENT, "malformed quote") is not None


def test_subject_and_detail_are_one_clean_bounded_line(ctx):
    eventlog.record(ctx, "evil\nACAAS-DCS-030 n9: trusted", EVENT, "a\x1b[2Jb")
    (event,) = events_db.event_list(ctx)
    assert "\n" not in event.subject and event.subject.startswith("evil ")
    assert event.detail == "a\\x1b[2Jb"
    eventlog.record(ctx, "big", EVENT, "z" * 100_000)
    assert len(events_db.event_list(ctx, subject="big")[0].detail) <= 2000


def _age(ctx, days):
    with db_api.context_manager.writer.using(ctx):
        ctx.session.execute(
            sa.update(models.Event).values(
                created_at=datetime.datetime.now(datetime.UTC).replace(
                    tzinfo=None
                )
                - datetime.timedelta(days=days)
            )
        )


def test_purge_by_age_and_cli(ctx, db_url, tmp_path, capsys):
    events_db.event_add(ctx, "old", "E-1", "info", "old one")
    _age(ctx, 100)
    events_db.event_add(ctx, "new", "E-2", "info", "new one")
    cli = manage_cli.Cli(capsys, manage_cli.write_conf(tmp_path, db_url))
    listed = cli.json("event", "list")
    assert [e["subject"] for e in listed] == ["new", "old"]
    assert (
        "Deleted 1 event(s) older than 90 day(s)"
        in cli.ok("event", "purge").out
    )
    assert [e.subject for e in events_db.event_list(ctx)] == ["new"]
    assert cli.json("event", "purge", "--older-than", "1")["deleted"] == 0
    assert (
        "days >= 1" in cli.fails(2, "event", "purge", "--older-than", "0").err
    )
    assert "at least 1" in cli.fails(2, "event", "list", "--limit", "0").err
