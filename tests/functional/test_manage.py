"""acaas-manage's actions on SQLite, MariaDB and PostgreSQL.

Each test runs ``main(argv)`` in-process against a throw-away database of
every backend (``db_url``); tests/functional/test_manage_errors.py holds
the exhaustive bad-input cases, and the last test here runs the installed
console script.
"""

import datetime
import json
import os
import subprocess
import sys

import pytest

from acaas_nova import context as acaas_context
from acaas_nova.db import migration
from acaas_nova.db import pending as pending_db
from tests.functional import manage_cli


@pytest.fixture
def fresh(db_url, tmp_path, capsys):
    """A Cli on an empty (not migrated) database of each backend."""
    return manage_cli.Cli(capsys, manage_cli.write_conf(tmp_path, db_url))


@pytest.fixture
def cli(fresh):
    fresh.ok("db", "sync")
    return fresh


def test_db_sync_and_version(fresh):
    result = fresh.fails(1, "location", "list")
    assert "not at the current schema version" in result.err
    assert "run 'acaas-manage db sync'" in result.err
    assert fresh.json("db", "version") == {
        "current": None,
        "head": migration.head(),
    }
    out = fresh.ok("db", "sync").out
    assert out == "Database schema is at version %s\n" % migration.head()
    # Idempotent.
    fresh.ok("db", "sync")
    assert fresh.json("db", "version") == {
        "current": migration.head(),
        "head": migration.head(),
    }
    table = fresh.ok("db", "version").out
    assert "| Database version | %s" % migration.head() in table


def test_locations_and_distances(cli):
    assert cli.ok("location", "create", "UK").out == "Created location UK\n"
    cli.ok("location", "create", "FR", "--description", "France")
    cli.ok("location", "create", "DE")
    assert cli.json("location", "list") == [
        {"name": "DE", "description": None},
        {"name": "FR", "description": "France"},
        {"name": "UK", "description": None},
    ]
    table = cli.ok("location", "list").out
    assert "| FR   | France      |" in table
    out = cli.ok("location", "distance", "set", "UK", "FR", "3").out
    assert out == "Distance UK <-> FR is 3\n"
    cli.ok("location", "distance", "set", "DE", "FR", "2")
    # Symmetric: setting B->A replaces A->B.
    cli.ok("location", "distance", "set", "FR", "UK", "4")
    assert cli.json("location", "distance", "list", "UK") == [
        {"location_a": "UK", "location_b": "FR", "distance": 4}
    ]
    assert len(cli.json("location", "distance", "list")) == 2
    assert "| UK | FR | 4 " in cli.ok("location", "distance", "list").out
    assert cli.ok("location", "delete", "DE").out == "Deleted location DE\n"
    assert [x["name"] for x in cli.json("location", "list")] == ["FR", "UK"]
    assert cli.json("location", "distance", "list") == [
        {"location_a": "UK", "location_b": "FR", "distance": 4}
    ]


def _two_domains(cli):
    cli.ok("location", "create", "UK")
    cli.ok("location", "create", "FR")
    cli.ok(
        "domain", "create", "d1", "--location", "UK",
        "--capability", "gpu=yes", "arch=x86", "--description", "London",
    )  # fmt: skip
    cli.ok(
        "domain", "create", "d2", "--location", "FR", "--source",
        "emergency", "--capability", "gpu=yes", "--capability", "arch=x86",
    )  # fmt: skip


def test_domains_backups_and_members(cli):
    _two_domains(cli)
    shown = cli.json("domain", "show", "d1")
    assert shown["location"] == "UK"
    assert shown["source"] == "local"
    assert shown["capabilities"] == {"gpu": "yes", "arch": "x86"}
    assert shown["description"] == "London"
    assert cli.json("domain", "show", "d2")["source"] == "emergency"
    out = cli.ok("domain", "backup", "add", "d1", "d2", "--priority", "1").out
    assert out == "Domain d1 is backed up by d2 (priority 1)\n"
    assert cli.json("domain", "backup", "list", "d1") == [
        {"domain": "d1", "backup": "d2", "priority": 1}
    ]
    table = cli.ok("domain", "list").out
    assert "| d1   | UK       | local     | arch=x86, gpu=yes |" in table
    assert "d2 (priority 1)" in table
    cli.ok("host", "add", "c1")
    assert cli.ok("domain", "host", "add", "d1", "c1").out == (
        "Host c1 is in domain d1\n"
    )
    assert cli.json("domain", "show", "d1")["hosts"] == ["c1"]
    cli.ok("domain", "backup", "remove", "d1", "d2")
    assert cli.json("domain", "backup", "list", "d1") == []
    out = cli.ok(
        "domain", "update", "d1", "--set-capability", "ram=high",
        "--unset-capability", "arch", "--location", "FR",
        "--source", "emergency", "--description", "moved",
    ).out  # fmt: skip
    assert out == "Updated domain d1\n"
    shown = cli.json("domain", "show", "d1")
    assert shown["capabilities"] == {"gpu": "yes", "ram": "high"}
    assert (shown["location"], shown["source"], shown["description"]) == (
        "FR",
        "emergency",
        "moved",
    )
    assert cli.ok("domain", "host", "remove", "d1", "c1").out == (
        "Host c1 left domain d1\n"
    )
    assert cli.ok("domain", "delete", "d1").out == "Deleted domain d1\n"
    assert [d["name"] for d in cli.json("domain", "list")] == ["d2"]


def _awaiting(host, ek):
    return pending_db.Awaiting(
        host=host,
        hypervisor_hostname=host,
        ek_fingerprint=ek,
        ek_subject="CN=tpm-" + ek[:2],
        ek_issuer="CN=swtpm-localca",
        cid="cid-%s-%s" % (host, ek[:2]),
        ak_public=b"ak",
        ak_name="00",
        ak_certificate="PEM",
        attestation_state="{}",
        expires_at=datetime.datetime.now(datetime.UTC)
        + datetime.timedelta(hours=1),
        channel_key=b"k" * 32,
    )


def test_declared_ek_and_pending_registrations(cli):
    _two_domains(cli)
    ek_a, ek_b = "a" * 64, "b" * 64
    out = cli.ok("host", "add", "c1", "--ek-fingerprint", ek_a.upper()).out
    assert out == "Declared host c1 (only EK %s may register it)\n" % ek_a
    assert cli.json("host", "show", "c1")["expected_ek_fingerprint"] == ek_a
    assert (
        "| Declared EK       | %s" % ek_a in cli.ok("host", "show", "c1").out
    )
    assert cli.json("host", "pending") == []
    ctx = acaas_context.get_admin_context()
    for host, ek in (("n1", ek_a), ("n1", ek_b), ("n2", ek_a)):
        pending_db.pending_store(ctx, _awaiting(host, ek), 10)
    listed = cli.json("host", "pending")
    assert [(p["host"], p["ek_fingerprint"]) for p in listed] == [
        ("n1", ek_a),
        ("n1", ek_b),
        ("n2", ek_a),
    ]
    assert listed[0]["ek_subject"] == "CN=tpm-aa"
    assert listed[0]["ek_issuer"] == "CN=swtpm-localca"
    assert listed[0]["age"].endswith("s ago")
    table = cli.ok("host", "pending").out
    assert "EK certificate subject" in table and ek_b in table
    # Two EKs wait under n1: the operator must say which.
    result = cli.fails(2, "host", "approve", "n1")
    assert "--ek-fingerprint" in result.err and ek_b in result.err
    result = cli.fails(
        2, "host", "approve", "n1", "--ek-fingerprint", "c" * 64
    )
    assert "not found" in result.err
    approved = cli.json(
        "host", "approve", "n1", "--ek-fingerprint", ek_b, "--domain", "d1"
    )
    assert approved["approved"]["ek_fingerprint"] == ek_b
    assert approved["approved"]["ek_subject"] == "CN=tpm-bb"
    node = approved["node"]
    assert (node["host"], node["domain"], node["status"]) == (
        "n1",
        "d1",
        "unknown",
    )
    assert node["ek_fingerprint"] == node["expected_ek_fingerprint"] == ek_b
    assert [p["host"] for p in cli.json("host", "pending")] == ["n2"]
    pending_db.pending_store(ctx, _awaiting("n3", ek_a), 10)
    out = cli.ok("host", "approve", "n2").out
    assert "Approved host n2 with EK fingerprint %s" % ek_a in out
    assert "EK certificate subject: CN=tpm-aa" in out
    assert "EK certificate issuer: CN=swtpm-localca" in out
    # A name registered with another EK is refused.
    pending_db.pending_store(ctx, _awaiting("n1", ek_a), 10)
    result = cli.fails(2, "host", "approve", "n1")
    assert "registered with another EK" in result.err
    out = cli.ok("host", "reject", "n1").out
    assert out == "Rejected 1 pending registration(s) of host n1 (EK %s)\n" % (
        ek_a
    )
    rejected = cli.json("host", "reject", "n3", "--ek-fingerprint", ek_a)
    assert [
        (p["host"], p["ek_fingerprint"]) for p in rejected["rejected"]
    ] == [("n3", ek_a)]
    assert cli.json("host", "pending") == []
    assert "not found" in cli.fails(2, "host", "reject", "n3").err


def test_hosts_and_properties(cli):
    _two_domains(cli)
    out = cli.ok(
        "host", "add", "c1", "--uuid",
        "0b3e1a5c-8c4d-4c55-9f4e-2d7b3c8e1f00", "--domain", "d1",
    ).out  # fmt: skip
    assert out == "Declared host c1\n"
    cli.ok("host", "add", "c2:hv-a")
    cli.ok("host", "add", "c2", "--hypervisor", "hv-b")
    assert cli.ok("add_properties", "c1", "rack=3", "pdu=a").out == (
        "Host c1 has 2 properties\n"
    )
    cli.ok("property", "add", "c1", "rack=4")
    assert cli.json("property", "get", "c1") == {"rack": "4", "pdu": "a"}
    assert "| rack | 4     |" in cli.ok("get_properties", "c1").out
    cli.ok("property", "add", "c2:hv-a", "gpu=yes")
    assert cli.json("property", "get", "c2:hv-b") == {}
    cli.ok("remove_properties", "c1", "pdu")
    assert cli.json("property", "get", "c1") == {"rack": "4"}
    cli.ok("property", "remove", "c1", "rack")
    assert cli.json("get_properties", "c1") == {}
    shown = cli.json("host", "show", "c1")
    assert shown["domain"] == "d1"
    assert shown["location"] == "UK"
    assert shown["status"] == "unknown"
    assert shown["attestation_age"] == "never"
    assert shown["compute_node_uuid"].startswith("0b3e1a5c")
    table = cli.ok("host", "show", "c2:hv-a").out
    assert "| Properties        | gpu=yes" in table
    assert "| Status            | unknown" in table
    listed = cli.json("host", "list")
    assert [(h["host"], h["hypervisor_hostname"]) for h in listed] == [
        ("c1", "c1"),
        ("c2", "hv-a"),
        ("c2", "hv-b"),
    ]
    assert [h["host"] for h in cli.json("host", "list", "--domain", "d1")] == [
        "c1"
    ]
    assert "| c1   | c1         | d1     | UK       | unknown |" in (
        cli.ok("host", "list").out
    )
    assert cli.ok("host", "delete", "c2:hv-b").out == "Deleted host c2:hv-b\n"
    assert len(cli.json("host", "list")) == 2


def test_requirements(cli):
    names = {e["name"] for e in cli.json("requirement", "entry", "list")}
    assert {"location", "max_distance", "capability"} <= names
    out = cli.ok(
        "requirement", "entry", "create", "rack", "--type", "string",
        "--description", "Rack of the host",
    ).out  # fmt: skip
    assert out == "Created requirement entry rack\n"
    assert "| rack " in cli.ok("requirement", "entry", "list").out
    cli.ok(
        "requirement", "spec", "create", "gold", "--project", "p1",
        "location=UK,FR", "max_distance=3", "capability:gpu=yes",
        "allow_emergency=yes",
    )  # fmt: skip
    cli.ok(
        "requirement", "spec", "create", "gold", "--project", "p1",
        "--user", "u1", "isolation=exclusive", "--description", "mine",
    )  # fmt: skip
    cli.ok("requirement", "spec", "create", "x", "--project", "p2", "rack=r1")
    spec = cli.json("requirement", "spec", "show", "gold", "--project", "p1")
    assert spec["values"] == {
        "location": "UK,FR",
        "max_distance": "3",
        "capability:gpu": "yes",
        "allow_emergency": "true",
    }
    assert spec["user_id"] is None
    mine = cli.json(
        "requirement", "spec", "show", "gold", "--project", "p1", "--user",
        "u1",
    )  # fmt: skip
    assert (mine["user_id"], mine["values"]) == (
        "u1",
        {"isolation": "exclusive"},
    )
    assert len(cli.json("requirement", "spec", "list")) == 3
    listed = cli.json("requirement", "spec", "list", "--project", "p2")
    assert [s["name"] for s in listed] == ["x"]
    cli.ok(
        "requirement", "spec", "update", "gold", "--project", "p1",
        "--set", "max_distance=5", "whitelist=compute",
        "--unset", "allow_emergency",
    )  # fmt: skip
    spec = cli.json("requirement", "spec", "show", "gold", "--project", "p1")
    assert spec["values"] == {
        "location": "UK,FR",
        "max_distance": "5",
        "capability:gpu": "yes",
        "whitelist": "compute",
    }
    table = cli.ok("requirement", "spec", "show", "gold", "--project", "p1")
    assert "max_distance=5" in table.out
    cli.ok(
        "requirement", "spec", "delete", "gold", "--project", "p1",
        "--user", "u1",
    )  # fmt: skip
    assert len(cli.json("requirement", "spec", "list", "--project", "p1")) == 1


def _write(tmp_path, name, doc):
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def test_whitelists(cli, tmp_path):
    first = _write(tmp_path, "a.json", manage_cli.whitelist_doc())
    out = cli.ok("whitelist", "import", first).out
    assert out == "Imported white-list compute version 2026.11\n"
    newer = manage_cli.whitelist_doc(version="2026.12")
    newer["digests"]["/usr/bin/virtiofsd"] = ["sha256:" + "01" * 32]
    cli.ok("whitelist", "import", _write(tmp_path, "b.json", newer))
    cli.ok(
        "whitelist", "import",
        _write(tmp_path, "c.json", manage_cli.whitelist_doc(name="edge")),
    )  # fmt: skip
    listed = cli.json("whitelist", "list")
    assert [(w["name"], w["version"]) for w in listed] == [
        ("compute", "2026.11"),
        ("compute", "2026.12"),
        ("edge", "2026.11"),
    ]
    shown = cli.json("whitelist", "show", "compute")
    assert (shown["version"], shown["files"]) == ("2026.12", 2)
    assert shown["document"]["boot_aggregates"] == ["sha256:" + "cd" * 32]
    older = cli.json("whitelist", "show", "compute", "--version", "2026.11")
    assert older["files"] == 1
    table = cli.ok("whitelist", "show", "compute").out
    assert "| Version             | 2026.12" in table
    assert "| Description         | good compute image" in table
    out = cli.ok("whitelist", "delete", "compute", "--version", "2026.12").out
    assert out == "Deleted white-list compute version 2026.12\n"
    assert cli.json("whitelist", "show", "compute")["version"] == "2026.11"
    cli.ok("whitelist", "delete", "edge")
    assert [w["name"] for w in cli.json("whitelist", "list")] == ["compute"]


@pytest.mark.parametrize(
    "argv,needle",
    [
        (("location", "create", "UK"), "Location UK already exists"),
        (
            ("domain", "backup", "add", "d1", "d1", "--priority", "2"),
            "domain d1 cannot back itself up",
        ),
        (("domain", "delete", "d1"), "domain d1 still has 1 host(s)"),
        (
            (
                "requirement",
                "spec",
                "create",
                "s",
                "--project",
                "p",
                "location=UK",
                "max_distance=far",
            ),
            "Invalid requirement max_distance: 'far' is not an integer",
        ),  # fmt: skip
        (
            ("property", "remove", "c1", "rack", "nosuch"),
            "Property nosuch of host c1 not found",
        ),
        (
            ("domain", "update", "d2", "--set-capability", "gpu=no"),
            "capability gpu of domain d2 would differ",
        ),
    ],
)
def test_failed_commands_write_nothing(cli, argv, needle):
    _two_domains(cli)
    cli.ok("domain", "backup", "add", "d1", "d2", "--priority", "1")
    cli.ok("host", "add", "c1", "--domain", "d1")
    cli.ok("property", "add", "c1", "rack=3")
    before = cli.state()
    assert needle in cli.fails(2, *argv).err
    assert cli.state() == before
    assert cli.json("property", "get", "c1") == {"rack": "3"}


def test_installed_console_script(sqlite_url, tmp_path):
    script = os.path.join(os.path.dirname(sys.executable), "acaas-manage")
    assert os.access(script, os.X_OK), script
    conf = manage_cli.write_conf(tmp_path, sqlite_url)

    def run(*argv):
        return subprocess.run(
            [script, "--config-file", conf, *argv],
            capture_output=True,
            text=True,
            timeout=120,
        )

    for argv in (("db", "sync"), ("location", "create", "UK")):
        assert run(*argv).returncode == 0
    listed = run("--format", "json", "location", "list")
    assert json.loads(listed.stdout) == [{"name": "UK", "description": None}]
    again = run("location", "create", "UK")
    assert again.returncode == 2
    assert again.stdout == ""
    assert again.stderr == (
        "acaas-manage: error: Location UK already exists\n"
    )
    missing = run("--config-file", str(tmp_path / "nope.conf"), "db", "sync")
    assert missing.returncode == 1
    assert len(missing.stderr.splitlines()) == 1
    assert "Traceback" not in missing.stderr
