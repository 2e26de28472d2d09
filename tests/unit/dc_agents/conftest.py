"""Fixtures shared by the DC-S endpoint tests."""

import pytest


@pytest.fixture
def events(monkeypatch):
    """Events DC-S records, as (subject, event id), kept in memory."""
    recorded = []

    def event_add(context, subject, event_id, severity, detail):
        recorded.append((subject, event_id))
        return len(recorded)

    monkeypatch.setattr(
        "dc_agents.dcs.eventlog.events_db.event_add", event_add
    )
    return recorded
