"""``acaas-manage schedule explain`` against a real (SQLite) database."""

import datetime

import pytest
from oslo_config import cfg

from acaas_nova import conf as acaas_conf
from acaas_nova import context as acaas_context
from acaas_nova.cmd import manage
from acaas_nova.cmd import schedule
from acaas_nova.db import api as db_api
from acaas_nova.db import domains as domains_db
from acaas_nova.db import locations as locations_db
from acaas_nova.db import nodes as nodes_db
from acaas_nova.db import requirements as requirements_db
from tests.functional import manage_cli


@pytest.fixture
def cli(sqlite_url, tmp_path, capsys):
    assert manage.COMMANDS["schedule"] == (schedule.ScheduleCommands,)
    cli = manage_cli.Cli(capsys, manage_cli.write_conf(tmp_path, sqlite_url))
    cli.ok("db", "sync")
    conf = cfg.ConfigOpts()
    acaas_conf.register_opts(conf)
    conf([], project="acaas", default_config_files=[])
    conf.set_override("connection", sqlite_url, group="acaas_database")
    db_api.configure(conf, force=True)
    ctx = acaas_context.get_admin_context()
    now = datetime.datetime.now(datetime.UTC)
    locations_db.location_create(ctx, "UK")
    locations_db.location_create(ctx, "FR")
    locations_db.distance_set(ctx, "UK", "FR", 5)
    domains_db.domain_create(ctx, "uk-a", "UK")
    domains_db.domain_create(ctx, "fr-a", "FR")
    for host, dom, status in (
        ("c1", "uk-a", "trusted"),
        ("c2", "fr-a", "trusted"),
        ("c3", "uk-a", "untrusted"),
    ):
        nodes_db.node_create(ctx, host, host, domain=dom)
        nodes_db.node_set_trust(ctx, host, host, status, ("gold",), None, now)
    requirements_db.requirement_spec_create(
        ctx, "p1", "near-fr", {"location": "FR"}
    )
    return cli


def test_explain_per_host(cli):
    out = cli.ok("schedule", "explain", "--hint", "acaas:location=UK").out
    assert "Requirements: location=UK" in out
    lines = {
        line.split("|")[1].strip(): line
        for line in out.splitlines()
        if line.startswith("| c")
    }
    assert "pass" in lines["c1"]
    assert "location FR not in UK" in lines["c2"]
    assert "attestation status is untrusted" in lines["c3"]
    assert "Preferred order: c1" in out


def test_explain_json_and_stored_spec(cli):
    data = cli.json(
        "schedule",
        "explain",
        "--hint",
        "acaas:requirement=near-fr",
        "--project",
        "p1",
    )
    verdicts = {h["host"]: h["verdict"] for h in data["hosts"]}
    assert verdicts["c2"] == "pass"
    assert data["preferred"] == ["c2"]


def test_explain_invalid_and_nothing_qualifies(cli):
    out = cli.ok("schedule", "explain", "--hint", "acaas:colour=red").out
    assert "Request refused: Invalid requirement acaas:colour" in out
    out = cli.ok(
        "schedule",
        "explain",
        "--hint",
        "acaas:location=UK",
        "--flavor-spec",
        "acaas:whitelist=platinum",
    ).out
    assert "No host qualifies" in out


def test_explain_bad_usage(cli):
    result = cli.fails(2, "schedule", "explain", "--hint", "oops")
    assert "malformed hint" in result.err


def test_explain_names_the_broken_domain_chain(cli):
    ctx = acaas_context.get_admin_context()
    # What DC-S stores: uk-a's DCoT is undefined (c3 is untrusted); fr-a's
    # is defined.
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    domains_db.domain_dcot_set(ctx, "uk-a", None, None, now)
    domains_db.domain_dcot_set(ctx, "fr-a", "d" * 64, "c" * 64, now)
    cli.ok(
        "requirement",
        "spec",
        "create",
        "chained",
        "--project",
        "p1",
        "domain_trust=gold",
        "backup_trust=gold",
    )
    data = cli.json(
        "schedule",
        "explain",
        "--hint",
        "acaas:requirement=chained",
        "--project",
        "p1",
    )
    assert data["requirements"] == "domain_trust=gold backup_trust=gold"
    verdicts = {h["host"]: h["verdict"] for h in data["hosts"]}
    assert verdicts["c1"] == (
        "domain uk-a: no DCoT for white-list gold (its DCoT is undefined)"
    )
    assert verdicts["c2"] == "pass"
    assert data["preferred"] == ["c2"]
    # DC-S recomputed uk-a's DCoT while c3 is still untrusted in the
    # snapshot: the member check names it.
    domains_db.domain_dcot_set(ctx, "uk-a", "d" * 64, "c" * 64, now)
    out = cli.ok(
        "schedule", "explain", "--hint", "acaas:domain_trust=gold"
    ).out
    line = next(x for x in out.splitlines() if x.startswith("| c1"))
    assert "no DCoT for white-list gold (node c3 is untrusted)" in line
    # A stored value that is not a list of names is refused by the CLI.
    result = cli.fails(
        2,
        "requirement",
        "spec",
        "create",
        "bad",
        "--project",
        "p1",
        "domain_trust=gold,,silver",
    )
    assert "domain_trust" in result.err
