"""acaas-manage compliance and domain maintenance, on every backend."""

import pytest

from acaas_nova import context as acaas_context
from acaas_nova.db import compliance as compliance_db
from tests.functional import manage_cli


@pytest.fixture
def cli(db_url, tmp_path, capsys):
    cli = manage_cli.Cli(capsys, manage_cli.write_conf(tmp_path, db_url))
    cli.ok("db", "sync")
    cli.ok("location", "create", "UK")
    cli.ok("domain", "create", "d1", "--location", "UK")
    return cli


def test_status_of_a_quiet_cloud(cli):
    data = cli.json("compliance", "status")
    assert data["breaker"]["state"] == "closed"
    assert data["fenced_hosts"] == [] and data["actions"] == []
    table = cli.ok("compliance", "status").out
    assert "Breaker" in table and "closed" in table


def test_status_lists_fenced_hosts_actions_and_stuck_instances(cli):
    ctx = acaas_context.get_admin_context()
    fence, _ = compliance_db.action_open(ctx, "fence", "h1", "untrusted")
    compliance_db.action_update(ctx, fence.id, "done")
    compliance_db.action_open(
        ctx, "migrate", "inst-1", "host h1 untrusted", source_host="h1"
    )
    stuck, _ = compliance_db.action_open(
        ctx, "migrate", "inst-2", "host h1 untrusted", source_host="h1"
    )
    compliance_db.action_update(
        ctx, stuck.id, "stuck", error="no host qualifies (3 fail capacity)"
    )
    data = cli.json("compliance", "status")
    assert data["fenced_hosts"] == ["h1"]
    states = {a["subject"]: a["state"] for a in data["actions"]}
    assert states == {"h1": "done", "inst-1": "pending", "inst-2": "stuck"}
    table = cli.ok("compliance", "status").out
    assert "inst-2" in table and "3 fail capacity" in table


def test_resume_closes_the_breaker(cli):
    ctx = acaas_context.get_admin_context()
    compliance_db.flag_set(
        ctx, compliance_db.BREAKER, compliance_db.BREAKER_OPEN, "70% untrusted"
    )
    data = cli.json("compliance", "status")
    assert data["breaker"]["state"] == "open"
    assert data["breaker"]["reason"] == "70% untrusted"
    assert "Breaker closed" in cli.ok("compliance", "resume").out
    assert not compliance_db.breaker_open(ctx)
    assert "was not open" in cli.ok("compliance", "resume").out


def test_domain_maintenance_start_and_stop(cli):
    assert (
        "is in maintenance"
        in cli.ok("domain", "maintenance", "start", "d1").out
    )
    assert "already" in cli.ok("domain", "maintenance", "start", "d1").out
    assert cli.json("compliance", "status")["maintenance"] == ["d1"]
    assert "ended" in cli.ok("domain", "maintenance", "stop", "d1").out
    assert cli.json("compliance", "status")["maintenance"] == []
    result = cli.fails(2, "domain", "maintenance", "start", "nope")
    assert "nope" in result.err


def test_pause_opens_the_breaker_with_a_reason(cli):
    assert (
        "Breaker open"
        in cli.ok("compliance", "pause", "--reason", "CA rotation").out
    )
    breaker = cli.json("compliance", "status")["breaker"]
    assert (breaker["state"], breaker["reason"]) == ("open", "CA rotation")
    assert "Breaker closed" in cli.ok("compliance", "resume").out
