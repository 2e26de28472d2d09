"""acaas-manage against oversized and unprintable input, on every backend.

A value over its column's size exits 2 naming the column and its limit on
SQLite (which would store it), MariaDB (which would cut or refuse it) and
PostgreSQL (which would raise) alike; a name or value with a control
character or newline is refused before anything is read or written; a file
argument is read with a size cap (``/dev/zero`` included).
"""

import json
import os

import pytest

from acaas_nova.attestation import whitelist as wl_format
from acaas_nova.cmd import manage
from acaas_nova.cmd import whitelist as whitelist_cmd
from acaas_nova.db import events as events_db
from acaas_nova.db import limits
from acaas_nova.db import models
from tests.functional import manage_cli

NAME = limits.limit_of(models.Location.name)
TEXT = limits.limit_of(models.Location.description)
VERSION = limits.limit_of(models.Whitelist.version)


@pytest.fixture
def cli(db_url, tmp_path, capsys):
    cli = manage_cli.Cli(capsys, manage_cli.write_conf(tmp_path, db_url))
    cli.ok("db", "sync")
    cli.ok("location", "create", "UK")
    cli.ok("domain", "create", "d1", "--location", "UK")
    cli.ok("host", "add", "c1", "--domain", "d1")
    cli.tmp_path = tmp_path
    return cli


def _over(limit, char="x"):
    return char * (limit + 1)


TOO_LONG = [
    (("location", "create", _over(NAME)), "locations.name", NAME),
    (
        ("location", "create", "L2", "--description", _over(TEXT)),
        "locations.description",
        TEXT,
    ),
    (
        ("domain", "create", _over(NAME), "--location", "UK"),
        "physical_layer_domains.name",
        NAME,
    ),
    (
        (
            "domain",
            "create",
            "d2",
            "--location",
            "UK",
            "--capability",
            "gpu=" + _over(NAME),
        ),
        "domain_capabilities.value",
        NAME,
    ),  # fmt: skip
    (("host", "add", _over(NAME)), "compute_nodes.host", NAME),
    (("host", "add", "c2:" + _over(NAME)), "hypervisor_hostname", NAME),
    (
        ("property", "add", "c1", _over(NAME) + "=1"),
        "node_properties.key",
        NAME,
    ),
    (
        ("property", "add", "c1", "rack=" + _over(NAME, "é")),
        "node_properties.value",
        NAME,
    ),
    (
        (
            "requirement",
            "spec",
            "create",
            _over(NAME),
            "--project",
            "p1",
            "location=UK",
        ),
        "requirement_specifications.name",
        NAME,
    ),  # fmt: skip
    (
        (
            "requirement",
            "spec",
            "create",
            "s",
            "--project",
            _over(NAME),
            "location=UK",
        ),
        "requirement_specifications.project_id",
        NAME,
    ),  # fmt: skip
    (
        (
            "requirement",
            "spec",
            "create",
            "s",
            "--project",
            "p1",
            "--description",
            _over(TEXT),
            "location=UK",
        ),
        "requirement_specifications.description",
        TEXT,
    ),  # fmt: skip
]


@pytest.mark.parametrize(
    "argv,column,limit", TOO_LONG, ids=[c for _, c, _ in TOO_LONG]
)
def test_value_over_its_column_size(cli, argv, column, limit):
    before = cli.state()
    err = cli.fails(2, *argv).err
    assert column in err, err
    assert "at most %d are allowed" % limit in err, err
    assert "Traceback" not in err and "Database error" not in err
    assert cli.state() == before


def test_values_at_the_limit_are_stored_whole(cli):
    # Characters, not bytes: 255 two-byte characters fit VARCHAR(255) on
    # every backend, and come back unchanged.
    name = "é" * NAME
    cli.ok("location", "create", name, "--description", "d" * TEXT)
    stored = {loc["name"]: loc for loc in cli.json("location", "list")}
    assert stored[name]["description"] == "d" * TEXT
    cli.ok("property", "add", "c1", "k" * NAME + "=" + "v" * NAME)
    assert cli.json("property", "get", "c1") == {"k" * NAME: "v" * NAME}


def test_whitelist_version_over_its_column(cli):
    doc = manage_cli.whitelist_doc(version=_over(VERSION))
    path = cli.tmp_path / "long.json"
    path.write_text(json.dumps(doc))
    err = cli.fails(2, "whitelist", "import", str(path)).err
    assert "version: longer than %d characters" % VERSION in err
    assert cli.json("whitelist", "list") == []


UNPRINTABLE = [
    ("location", "create", "a\nb"),
    ("location", "create", "UK2", "--description", "one\rtwo"),
    ("domain", "create", "d\x1b[31m", "--location", "UK"),
    ("domain", "create", "d3", "--location", "UK", "--capability",
     "gpu=y\tes"),
    ("host", "add", "c\x00"),
    ("property", "add", "c1", "rack=3\u2028"),
    ("requirement", "spec", "create", "s", "--project", "p\x7f",
     "location=UK"),
]  # fmt: skip


@pytest.mark.parametrize("argv", UNPRINTABLE, ids=repr)
def test_control_characters_refused(cli, argv):
    before = cli.state()
    err = cli.fails(2, *argv).err
    assert "contains control character U+" in err, err
    assert cli.state() == before


def test_whitelist_with_control_characters_refused(cli):
    for field, value in (("version", "1\n2"), ("description", "a\x1bb")):
        doc = manage_cli.whitelist_doc(**{field: value})
        path = cli.tmp_path / ("%s.json" % field)
        path.write_text(json.dumps(doc))
        err = cli.fails(2, "whitelist", "import", str(path)).err
        assert "white-list %s: contains control character" % field in err
    assert cli.json("whitelist", "list") == []


def _huge(tmp_path, size):
    # Sparse: costs no disk, reads as zeros.
    path = tmp_path / "huge"
    with open(path, "wb") as f:
        f.truncate(size)
    return str(path)


def test_dev_zero_and_huge_files_read_with_a_cap(cli):
    cap = wl_format.MAX_DOCUMENT
    for path in ("/dev/zero", _huge(cli.tmp_path, 4 << 30)):
        err = cli.fails(2, "whitelist", "import", path).err
        assert (
            "white-list file %s is larger than %d bytes" % (path, cap) in err
        )
    pcrs = cli.tmp_path / "pcrs.json"
    pcrs.write_text('{"sha256": {}}')
    base = ("whitelist", "generate", "--name", "g", "--version", "1")
    err = cli.fails(2, *base, "--log", "/dev/zero", "--pcrs", str(pcrs)).err
    assert (
        "IMA log /dev/zero is larger than %d" % whitelist_cmd.MAX_IMA_LOG
        in (err)
    )
    err = cli.fails(2, *base, "--log", str(pcrs), "--pcrs", "/dev/zero").err
    assert "PCR file /dev/zero is larger than" in err
    assert cli.json("whitelist", "list") == []


def test_binary_whitelist_file_refused(cli):
    path = cli.tmp_path / "binary.json"
    path.write_bytes(b"\xff\xfe{}")
    err = cli.fails(2, "whitelist", "import", str(path)).err
    assert "not UTF-8 text" in err


def test_config_file_device_or_huge_refused(cli):
    huge = _huge(cli.tmp_path, manage.MAX_CONFIG_FILE + 1)
    for path, needle in (
        ("/dev/zero", "is not a regular file"),
        (huge, "is larger than %d bytes" % manage.MAX_CONFIG_FILE),
    ):
        cli.conf_path = path
        err = cli.fails(1, "location", "list").err
        assert "configuration file %s %s" % (path, needle) in err
    conf_dir = cli.tmp_path / "conf.d"
    conf_dir.mkdir()
    os.symlink("/dev/zero", conf_dir / "zero.conf")
    cli.conf_path = str(cli.tmp_path / "acaas.conf")
    err = cli.fails(1, "--config-dir", str(conf_dir), "location", "list").err
    assert "zero.conf is not a regular file" in err


def test_event_add_cuts_what_does_not_fit(migrated):
    # Events record what happened: never refused for their length (the
    # row check would refuse them), cut to their columns instead.
    _conf, ctx = migrated
    subject_limit = limits.limit_of(models.Event.subject)
    events_db.event_add(ctx, "s" * 300, "E-1", "info", "é" * TEXT)
    (event,) = events_db.event_list(ctx)
    assert event.subject == "s" * subject_limit
    assert event.detail == "é" * (TEXT // 2)
