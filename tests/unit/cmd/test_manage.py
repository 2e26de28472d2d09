"""acaas-manage's command line, parsed without running anything."""

import pytest

from acaas_nova.cmd import base
from acaas_nova.cmd import manage
from acaas_nova.cmd.db import DbCommands
from acaas_nova.cmd.domain import DomainCommands
from acaas_nova.cmd.host import HostCommands
from acaas_nova.cmd.location import LocationCommands
from acaas_nova.cmd.prop import PropertyCommands
from acaas_nova.cmd.requirement import RequirementCommands
from acaas_nova.cmd.whitelist import WhitelistCommands


def parse(*argv):
    return manage.setup_commands().parse_args(list(argv))


# argv -> (class, method, needs)
ACTIONS = [
    (("db", "sync"), DbCommands, "sync", base.NEEDS_DB),
    (("db", "version"), DbCommands, "version", base.NEEDS_DB),
    (("location", "create", "UK"), LocationCommands, "create", "schema"),
    (("location", "list"), LocationCommands, "list", "schema"),
    (("location", "delete", "UK"), LocationCommands, "delete", "schema"),
    (
        ("location", "distance", "set", "UK", "FR", "3"),
        LocationCommands,
        "distance_set",
        "schema",
    ),
    (
        ("location", "distance", "list", "UK"),
        LocationCommands,
        "distance_list",
        "schema",
    ),
    (
        ("domain", "create", "d", "--location", "UK"),
        DomainCommands,
        "create",
        "schema",
    ),
    (("domain", "list"), DomainCommands, "list", "schema"),
    (("domain", "show", "d"), DomainCommands, "show", "schema"),
    (
        ("domain", "update", "d", "--source", "emergency"),
        DomainCommands,
        "update",
        "schema",
    ),
    (("domain", "delete", "d"), DomainCommands, "delete", "schema"),
    (
        ("domain", "backup", "add", "a", "b", "--priority", "1"),
        DomainCommands,
        "backup_add",
        "schema",
    ),
    (
        ("domain", "backup", "remove", "a", "b"),
        DomainCommands,
        "backup_remove",
        "schema",
    ),
    (
        ("domain", "backup", "list", "a"),
        DomainCommands,
        "backup_list",
        "schema",
    ),
    (
        ("domain", "host", "add", "d", "h"),
        DomainCommands,
        "host_add",
        "schema",
    ),
    (
        ("domain", "host", "remove", "d", "h"),
        DomainCommands,
        "host_remove",
        "schema",
    ),
    (("property", "add", "h", "k=v"), PropertyCommands, "add", "schema"),
    (("property", "get", "h"), PropertyCommands, "get", "schema"),
    (("property", "remove", "h", "k"), PropertyCommands, "remove", "schema"),
    (("add_properties", "h", "k=v"), PropertyCommands, "add", "schema"),
    (("get_properties", "h"), PropertyCommands, "get", "schema"),
    (("remove_properties", "h", "k"), PropertyCommands, "remove", "schema"),
    (
        ("requirement", "entry", "list"),
        RequirementCommands,
        "entry_list",
        "schema",
    ),
    (
        (
            "requirement",
            "entry",
            "create",
            "e",
            "--type",
            "string",
            "--description",
            "x",
        ),
        RequirementCommands,
        "entry_create",
        "schema",
    ),
    (
        ("requirement", "spec", "create", "s", "--project", "p", "a=b"),
        RequirementCommands,
        "spec_create",
        "schema",
    ),
    (
        ("requirement", "spec", "list"),
        RequirementCommands,
        "spec_list",
        "schema",
    ),
    (
        ("requirement", "spec", "show", "s", "--project", "p"),
        RequirementCommands,
        "spec_show",
        "schema",
    ),
    (
        (
            "requirement",
            "spec",
            "update",
            "s",
            "--project",
            "p",
            "--unset",
            "a",
        ),
        RequirementCommands,
        "spec_update",
        "schema",
    ),
    (
        ("requirement", "spec", "delete", "s", "--project", "p"),
        RequirementCommands,
        "spec_delete",
        "schema",
    ),
    (
        ("whitelist", "import", "f.json"),
        WhitelistCommands,
        "import_",
        "schema",
    ),
    (("whitelist", "list"), WhitelistCommands, "list", "schema"),
    (("whitelist", "show", "w"), WhitelistCommands, "show", "schema"),
    (
        ("whitelist", "delete", "w", "--version", "1.0"),
        WhitelistCommands,
        "delete",
        "schema",
    ),
    (
        (
            "whitelist",
            "generate",
            "--name",
            "w",
            "--version",
            "1",
            "--log",
            "l",
            "--pcrs",
            "p",
        ),
        WhitelistCommands,
        "generate",
        base.NEEDS_NOTHING,
    ),
    (("host", "add", "h"), HostCommands, "add", "schema"),
    (("host", "delete", "h"), HostCommands, "delete", "schema"),
    (("host", "list"), HostCommands, "list", "schema"),
    (("host", "show", "h:hv"), HostCommands, "show", "schema"),
    (("host", "pending"), HostCommands, "pending", "schema"),
    (("host", "approve", "h"), HostCommands, "approve", "schema"),
    (("host", "reject", "h"), HostCommands, "reject", "schema"),
]


@pytest.mark.parametrize(
    "argv,cls,method,needs",
    ACTIONS,
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else None,
)
def test_every_action_is_wired(argv, cls, method, needs):
    args = parse(*argv)
    assert args.command_class is cls
    assert args.command == method
    assert args.needs == needs
    assert callable(getattr(cls, method))


def test_defaults():
    args = parse("location", "list")
    assert args.format == "table"
    assert args.config_file is None
    assert args.config_dir is None
    assert args.debug is False


def test_global_options():
    args = parse(
        "--config-file",
        "a.conf",
        "--config-file",
        "b.conf",
        "--config-dir",
        "d",
        "--format",
        "json",
        "--debug",
        "db",
        "sync",
    )
    assert args.config_file == ["a.conf", "b.conf"]
    assert args.config_dir == "d"
    assert args.format == "json"
    assert args.debug is True


def test_repeated_and_multi_valued_options():
    args = parse(
        "domain",
        "create",
        "d1",
        "--location",
        "UK",
        "--capability",
        "gpu=yes",
        "arch=x86",
        "--capability",
        "ram=high",
        "--source",
        "emergency",
    )
    assert args.capability == ["gpu=yes", "arch=x86", "ram=high"]
    assert args.source == "emergency"
    args = parse(
        "domain",
        "update",
        "d1",
        "--set-capability",
        "a=1",
        "--unset-capability",
        "b",
        "c",
    )
    assert args.set_capability == ["a=1"]
    assert args.unset_capability == ["b", "c"]


def test_distance_accepts_negative_number_for_the_db_to_refuse():
    args = parse("location", "distance", "set", "A", "B", "-4")
    assert args.distance == -4


def test_ek_fingerprints_are_normalised():
    fp = "AB:" + "cd" * 30 + ":E0"
    args = parse("host", "add", "h", "--ek-fingerprint", fp)
    assert args.ek_fingerprint == "ab" + "cd" * 30 + "e0"
    args = parse(
        "host", "approve", "h", "--ek-fingerprint", "F" * 64, "--domain", "d"
    )
    assert (args.ek_fingerprint, args.domain) == ("f" * 64, "d")
    args = parse("host", "approve", "h")
    assert args.ek_fingerprint is None and args.domain is None
    assert parse("host", "reject", "h:hv").host == "h:hv"


def test_spec_create_collects_pairs_and_owner():
    args = parse(
        "requirement",
        "spec",
        "create",
        "gold",
        "--project",
        "p1",
        "--user",
        "u1",
        "location=UK",
        "max_distance=3",
    )
    assert (args.name, args.project, args.user) == ("gold", "p1", "u1")
    assert args.pairs == ["location=UK", "max_distance=3"]


@pytest.mark.parametrize(
    "argv,needle",
    [
        ((), "required: CATEGORY"),
        (("location",), "required: ACTION"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
        (("location", "create"), "required: NAME"),
        (("domain", "create", "d"), "--location"),
        (
            ("domain", "create", "d", "--location", "L", "--source", "x"),
            "--source",
        ),
        (("domain", "backup", "add", "a", "b"), "--priority"),
        (
            ("location", "distance", "set", "A", "B", "far"),
            "'far' is not an integer",
        ),
        (("--format", "xml", "location", "list"), "--format"),
        (("property", "add", "h"), "KEY=VALUE"),
        (("requirement", "spec", "show", "s"), "--project"),
        (
            (
                "requirement",
                "entry",
                "create",
                "e",
                "--type",
                "float",
                "--description",
                "d",
            ),
            "--type",
        ),
        (("location", "list", "--bogus"), "unrecognized arguments: --bogus"),
        (
            ("host", "add", "h", "--ek-fingerprint", "abc"),
            "argument --ek-fingerprint: EK fingerprint 'abc' is not 64 hex",
        ),
        (
            ("host", "approve", "h", "--ek-fingerprint", "g" * 64),
            "is not 64 hex digits",
        ),
        (("host", "reject", "h", "--ek-fingerprint", ""), "64 hex digits"),
        (("host", "approve"), "required: HOST"),
        (("host", "pending", "h"), "unrecognized arguments: h"),
    ],
)
def test_usage_errors_are_one_line_exit_2(capsys, argv, needle):
    assert manage.main(list(argv)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith("acaas-manage")
    assert needle in err


def test_help_documents_exit_codes(capsys):
    assert manage.main(["--help"]) == 0
    out, _ = capsys.readouterr()
    assert "exit codes:" in out
    for line in ("0  success", "1  failure", "2  bad usage"):
        assert line in out
    for category in manage.COMMANDS:
        assert category in out


def test_every_category_has_help():
    for name, classes in manage.COMMANDS.items():
        assert classes and classes[0].help, name


class _AttestCommands(base.Commands):
    """What a later feature adds to the host category."""

    help = "unused: the host category keeps its first class's help"

    @classmethod
    def add_actions(cls, actions):
        # Not "attest": the real host attest action is registered now.
        p = base.action(actions, cls, "probe", "probe a host now")
        p.add_argument("host")


class _ScheduleCommands(base.Commands):
    help = "scheduling decisions (explain)"

    @classmethod
    def add_actions(cls, actions):
        base.action(actions, cls, "explain", "explain a decision")


def test_registry_extends_categories_and_actions(monkeypatch):
    commands = dict(manage.COMMANDS)
    commands["host"] = commands["host"] + (_AttestCommands,)
    commands["schedule"] = (_ScheduleCommands,)
    monkeypatch.setattr(manage, "COMMANDS", commands)
    args = parse("host", "probe", "c1")
    assert (args.command_class, args.command, args.host) == (
        _AttestCommands,
        "probe",
        "c1",
    )
    assert parse("host", "list").command_class is HostCommands
    assert parse("schedule", "explain").command_class is _ScheduleCommands
