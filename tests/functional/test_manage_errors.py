"""Every bad input of acaas-manage: exit code, one line, nothing written.

Runs on SQLite (tests/functional/test_manage.py runs a representative
subset on MariaDB and PostgreSQL too), plus configuration and connection
failures and ``whitelist generate``.
"""

import json

import pytest

from acaas_nova.cmd import manage
from acaas_nova.evidence import ima_build
from tests.functional import manage_cli


@pytest.fixture
def cli(sqlite_url, tmp_path, capsys):
    """A populated database: the state every bad input must leave as is."""
    cli = manage_cli.Cli(capsys, manage_cli.write_conf(tmp_path, sqlite_url))
    cli.ok("db", "sync")
    for name in ("UK", "FR", "DE"):
        cli.ok("location", "create", name)
    cli.ok("location", "distance", "set", "UK", "FR", "3")
    cli.ok(
        "domain", "create", "d1", "--location", "UK", "--capability", "gpu=yes"
    )
    cli.ok(
        "domain", "create", "d2", "--location", "FR", "--capability", "gpu=yes"
    )
    cli.ok(
        "domain", "create", "d3", "--location", "DE", "--capability", "gpu=no"
    )
    cli.ok("domain", "backup", "add", "d1", "d2", "--priority", "1")
    cli.ok("host", "add", "c1", "--domain", "d1")
    cli.ok("property", "add", "c1", "rack=3")
    cli.ok("host", "add", "c2:hv-a")
    cli.ok("host", "add", "c2:hv-b")
    cli.ok(
        "requirement",
        "spec",
        "create",
        "gold",
        "--project",
        "p1",
        "location=UK",
    )
    doc = tmp_path / "wl.json"
    doc.write_text(json.dumps(manage_cli.whitelist_doc()))
    cli.ok("whitelist", "import", str(doc))
    cli.tmp_path = tmp_path
    return cli


def _file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


BAD_INPUTS = [
    # unknown host, domain or location
    (("property", "add", "nosuch", "a=1"), "Host nosuch not found"),
    (("property", "get", "nosuch"), "Host nosuch not found"),
    (("host", "show", "c1:other"), "Host c1:other not found"),
    (("host", "delete", "nosuch"), "Host nosuch not found"),
    (("host", "show", "c2"), "host c2 has several hypervisors"),
    (("domain", "host", "add", "d1", "nosuch"), "Host nosuch not found"),
    (("domain", "show", "nosuch"), "Domain nosuch not found"),
    (
        ("domain", "host", "add", "nosuch", "c2:hv-a"),
        "Domain nosuch not found",
    ),
    (("host", "add", "c3", "--domain", "nosuch"), "Domain nosuch not found"),
    (("host", "list", "--domain", "nosuch"), "Domain nosuch not found"),
    (("domain", "backup", "list", "nosuch"), "Domain nosuch not found"),
    (
        ("domain", "create", "d9", "--location", "Mars"),
        "Location Mars not found",
    ),
    (
        ("domain", "update", "d1", "--location", "Mars"),
        "Location Mars not found",
    ),
    (
        ("location", "distance", "set", "UK", "Mars", "1"),
        "Location Mars not found",
    ),
    (("location", "distance", "list", "Mars"), "Location Mars not found"),
    (("location", "delete", "Mars"), "Location Mars not found"),
    # duplicates
    (("location", "create", "UK"), "Location UK already exists"),
    (
        ("domain", "create", "d1", "--location", "FR"),
        "Domain d1 already exists",
    ),
    (("host", "add", "c1"), "Host c1:c1 already exists"),
    (
        (
            "requirement",
            "entry",
            "create",
            "location",
            "--type",
            "list",
            "--description",
            "again",
        ),
        "Requirement entry location already exists",
    ),  # fmt: skip
    (
        (
            "requirement",
            "spec",
            "create",
            "gold",
            "--project",
            "p1",
            "location=FR",
        ),
        "Requirement specification gold of p1 already exists",
    ),
    (
        ("domain", "backup", "add", "d1", "d2", "--priority", "2"),
        "Backup d2 of domain d1 already exists",
    ),
    # distances, backups, capabilities
    (
        ("location", "distance", "set", "UK", "FR", "-1"),
        "must not be negative",
    ),
    (
        ("location", "distance", "set", "UK", "UK", "0"),
        "no distance to itself",
    ),
    (
        ("domain", "backup", "add", "d1", "d1", "--priority", "2"),
        "domain d1 cannot back itself up",
    ),
    (
        ("domain", "backup", "add", "d1", "d3", "--priority", "2"),
        "backup domain d3 differs from d1 in capability gpu",
    ),
    (
        ("domain", "update", "d1", "--set-capability", "gpu=no"),
        "capability gpu of domain d1 would differ from its collaborating "
        "domain d2",
    ),
    (
        ("domain", "update", "d1", "--unset-capability", "ram"),
        "Capability ram of domain d1 not found",
    ),
    (
        ("domain", "backup", "remove", "d1", "d3"),
        "Backup d3 of domain d1 not found",
    ),
    (("domain", "host", "remove", "d2", "c1"), "host c1 is not in domain d2"),
    (("domain", "update", "d1"), "nothing to update"),
    # deleting what is in use
    (("domain", "delete", "d1"), "domain d1 still has 1 host(s); remove them"),
    (("location", "delete", "UK"), "location UK is used by 1 domain(s)"),
    # malformed key=value
    (("property", "add", "c1", "rack"), "malformed key=value 'rack'"),
    (("add_properties", "c1", "a=1", "=2"), "malformed key=value '=2'"),
    (("property", "add", "c1", "a=1", "a=2"), "a given twice"),
    (
        ("domain", "create", "d9", "--location", "UK", "--capability", "gpu"),
        "malformed key=value 'gpu'",
    ),
    (
        ("requirement", "spec", "create", "s", "--project", "p1", "location"),
        "malformed key=value 'location'",
    ),
    (
        (
            "requirement",
            "spec",
            "update",
            "gold",
            "--project",
            "p1",
            "--set",
            "x",
        ),
        "malformed key=value 'x'",
    ),
    (
        ("property", "remove", "c1", "rack", "nosuch"),
        "Property nosuch of host c1",
    ),
    # values of the wrong type for a requirement entry
    (
        (
            "requirement",
            "spec",
            "create",
            "s",
            "--project",
            "p1",
            "location=UK",
            "max_distance=far",
        ),
        "Invalid requirement max_distance: 'far' is not an integer",
    ),  # fmt: skip
    (
        (
            "requirement",
            "spec",
            "create",
            "s",
            "--project",
            "p1",
            "allow_emergency=maybe",
        ),
        "'maybe' is not a boolean",
    ),  # fmt: skip
    (
        (
            "requirement",
            "spec",
            "create",
            "s",
            "--project",
            "p1",
            "isolation=shared",
        ),
        "'shared' is not 'exclusive'",
    ),
    (
        (
            "requirement",
            "spec",
            "create",
            "s",
            "--project",
            "p1",
            "capability=x",
        ),
        "use capability:<key>=<value>",
    ),
    (
        (
            "requirement",
            "spec",
            "create",
            "s",
            "--project",
            "p1",
            "colour=red",
        ),
        "Invalid requirement colour: no such requirement entry",
    ),
    (
        (
            "requirement",
            "spec",
            "update",
            "gold",
            "--project",
            "p1",
            "--set",
            "max_distance=-2",
        ),
        "max_distance: -2 must not be negative",
    ),  # fmt: skip
    (
        ("requirement", "spec", "update", "gold", "--project", "p1"),
        "nothing to update",
    ),
    (
        ("requirement", "spec", "show", "gold", "--project", "p2"),
        "Requirement specification gold of p2 not found",
    ),
    (
        (
            "requirement",
            "spec",
            "delete",
            "gold",
            "--project",
            "p1",
            "--user",
            "u",
        ),
        "Requirement specification gold of p1/u not found",
    ),
    # white-lists
    (("whitelist", "show", "nosuch"), "White-list nosuch not found"),
    (
        ("whitelist", "show", "compute", "--version", "9.9"),
        "White-list compute version 9.9 not found",
    ),
    (("whitelist", "delete", "nosuch"), "White-list nosuch not found"),
    # usage errors (argparse; still one line, exit 2)
    (("domain", "create", "d9"), "required: --location"),
    (("location", "frobnicate"), "invalid choice: 'frobnicate'"),
    (("host", "add"), "required: HOST"),
    (
        ("domain", "create", "d9", "--location", "UK", "--source", "cloud"),
        "--source",
    ),
    (
        ("location", "distance", "set", "UK", "FR", "far"),
        "'far' is not an integer",
    ),
    (("host", "show", "c1:"), "is not host or host:hypervisor_hostname"),
]


@pytest.mark.parametrize(
    "argv,needle", BAD_INPUTS, ids=[" ".join(a) for a, _ in BAD_INPUTS]
)
def test_bad_input(cli, argv, needle):
    before = cli.state()
    result = cli.fails(2, *argv)
    assert needle in result.err
    assert cli.state() == before
    assert cli.json("property", "get", "c1") == {"rack": "3"}
    # JSON mode reports errors the same way (stderr, not stdout).
    assert cli.fails(2, *argv, fmt="json").err == result.err


WHITELIST_FILES = [
    ("missing.json", None, "cannot read white-list file"),
    ("empty.json", "", "not JSON"),
    ("bad.json", "{not json", "not JSON"),
    ("list.json", "[]", "must be a JSON object"),
    ("noname.json", json.dumps({"version": "1"}), "white-list name"),
    (
        "noboot.json",
        json.dumps({"name": "w", "version": "1"}),
        "needs boot_aggregates or boot_configs",
    ),
    (
        "unknown.json",
        json.dumps(manage_cli.whitelist_doc(colour="red")),
        "white-list colour: unknown field",
    ),
    (
        "digest.json",
        json.dumps(manage_cli.whitelist_doc(boot_aggregates=["sha256:zz"])),
        "boot_aggregates[0]",
    ),
    (
        "everything.json",
        json.dumps(manage_cli.whitelist_doc(excludes=["/**"])),
        "white-list excludes[0]: '/**' matches every path",
    ),
    (
        "executables.json",
        json.dumps(manage_cli.whitelist_doc(excludes=["/usr/local/bin/*"])),
        "covers executables and libraries",
    ),
    (
        "slow.json",
        json.dumps(manage_cli.whitelist_doc(excludes=["/*/log/*"])),
        "at most one '*' or '**' per pattern",
    ),
    # The same name and version as the stored one.
    ("again.json", json.dumps(manage_cli.whitelist_doc()), "already exists"),
]


@pytest.mark.parametrize(
    "name,text,needle", WHITELIST_FILES, ids=[w[0] for w in WHITELIST_FILES]
)
def test_bad_whitelist_file(cli, name, text, needle):
    path = str(cli.tmp_path / name)
    if text is not None:
        path = _file(cli.tmp_path, name, text)
    before = cli.state()
    assert needle in cli.fails(2, "whitelist", "import", path).err
    assert cli.state() == before


def test_unreadable_whitelist_file(cli):
    # A directory cannot be read as a file (works as root too).
    result = cli.fails(2, "whitelist", "import", str(cli.tmp_path))
    assert "cannot read white-list file" in result.err


def test_not_migrated(tmp_path, capsys, sqlite_url):
    cli = manage_cli.Cli(capsys, manage_cli.write_conf(tmp_path, sqlite_url))
    for argv in (("host", "list"), ("location", "create", "UK")):
        result = cli.fails(1, *argv)
        assert "run 'acaas-manage db sync'" in result.err
    cli.ok("db", "sync")
    assert cli.json("location", "list") == []


def test_database_unreachable(tmp_path, capsys):
    # Nothing listens on port 1: the connection is refused at once.
    url = "mysql+pymysql://root@127.0.0.1:1/acaas"
    cli = manage_cli.Cli(capsys, manage_cli.write_conf(tmp_path, url))
    for argv in (("db", "sync"), ("location", "list")):
        err = cli.fails(1, *argv).err
        assert "cannot connect to the ACaaS database at %s" % url in err
    # A password never appears in the message.
    url = "mysql+pymysql://root:s3cret@127.0.0.1:1/acaas"
    cli.conf_path = manage_cli.write_conf(tmp_path, url)
    err = cli.fails(1, "db", "sync").err
    assert "s3cret" not in err
    assert "root:***@127.0.0.1:1" in err


def test_unusable_configuration(tmp_path, capsys):
    cli = manage_cli.Cli(capsys, str(tmp_path / "missing.conf"))
    assert "Configuration error" in cli.fails(1, "location", "list").err
    cli.conf_path = _file(tmp_path, "broken.conf", "[acaas_database\nx")
    assert "Configuration error" in cli.fails(1, "location", "list").err
    blocker = _file(tmp_path, "blocker", "a file, not a directory")
    cli.conf_path = _file(
        tmp_path,
        "state.conf",
        "[acaas_database]\nstate_path = %s/sub\n" % blocker,
    )
    result = cli.fails(1, "db", "sync")
    assert "cannot create the embedded database" in result.err


def test_config_dir(tmp_path, capsys, sqlite_url):
    conf_dir = tmp_path / "conf.d"
    conf_dir.mkdir()
    manage_cli.write_conf(conf_dir, sqlite_url)
    assert manage.main(["--config-dir", str(conf_dir), "db", "sync"]) == 0
    capsys.readouterr()
    assert manage.main(["--config-dir", str(conf_dir), "--format", "json",
                        "location", "list"]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out) == []


def test_debug_logs_the_traceback(cli):
    result = cli("--debug", "location", "create", "UK")
    assert result.rc == 2
    assert "Traceback" in result.err
    assert result.err.rstrip().endswith(
        "acaas-manage: error: Location UK already exists"
    )


def _known_good_platform(tmp_path):
    pcrs = {"sha256": {i: bytes([i + 1]) * 32 for i in range(10)}}
    log = ima_build.LogBuilder(banks=("sha256",))
    log.add_boot_aggregate(pcrs)
    log.add_file("/usr/bin/qemu-system-x86_64", b"qemu")
    log.add_file("/usr/lib/libvirt.so", b"libvirt")
    pcr_json = {str(i): v.hex() for i, v in pcrs["sha256"].items()}
    pcr_json["10"] = log.pcr10["sha256"].hex()
    return (
        _file(tmp_path, "ima.log", log.text()),
        _file(tmp_path, "pcrs.json", json.dumps({"sha256": pcr_json})),
    )


def test_whitelist_generate_then_import(cli):
    log, pcrs = _known_good_platform(cli.tmp_path)
    out = str(cli.tmp_path / "generated.json")
    result = cli.ok(
        "whitelist", "generate", "--name", "gen", "--version", "1.0",
        "--log", log, "--pcrs", pcrs, "--exclude", "/tmp/*", "-o", out,
    )  # fmt: skip
    assert result.out == "Wrote white-list gen version 1.0 to %s\n" % out
    with open(out) as f:
        doc = json.load(f)
    assert sorted(doc["digests"]) == [
        "/usr/bin/qemu-system-x86_64",
        "/usr/lib/libvirt.so",
    ]
    assert doc["digests"]["/usr/lib/libvirt.so"] == [
        ima_build.file_digest(b"libvirt")
    ]
    assert doc["excludes"] == ["/tmp/*"]
    assert len(doc["boot_configs"]) == 1
    cli.ok("whitelist", "import", out)
    assert cli.json("whitelist", "show", "gen")["files"] == 2
    # Without -o the document goes to stdout, also under --format json.
    printed = cli.ok(
        "whitelist", "generate", "--name", "gen", "--version", "1.0",
        "--log", log, "--pcrs", pcrs, "--exclude", "/tmp/*", fmt="json",
    )  # fmt: skip
    assert json.loads(printed.out) == doc


def test_whitelist_generate_bad_evidence(cli):
    log, pcrs = _known_good_platform(cli.tmp_path)
    tampered = _file(
        cli.tmp_path,
        "tampered.log",
        open(log).read().replace("libvirt", "libvirX"),
    )
    base = ("whitelist", "generate", "--name", "g", "--version", "1")
    result = cli.fails(2, *base, "--log", tampered, "--pcrs", pcrs)
    assert "template hash does not match its fields" in result.err
    bad_pcrs = _file(cli.tmp_path, "bad.json", '{"sha256": {"0": "zz"}}')
    result = cli.fails(2, *base, "--log", log, "--pcrs", bad_pcrs)
    assert "must be JSON {bank: {index: hex}}" in result.err
    missing = str(cli.tmp_path / "none.log")
    result = cli.fails(2, *base, "--log", missing, "--pcrs", pcrs)
    assert "cannot read IMA log" in result.err


def test_host_attest_without_an_operator_transport(cli):
    """No operator_transport_url: DC-S serves no operator method, so
    acaas-manage refuses at once instead of waiting for a timeout."""
    result = cli.fails(1, "host", "attest", "c1")
    assert "operator_transport_url is not set" in result.err
