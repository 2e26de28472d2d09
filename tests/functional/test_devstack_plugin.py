"""devstack/plugin.sh run by bash against stand-ins for devstack.

Each test sources devstack's settings and plugin.sh as stack.sh does
(``source plugin.sh stack post-config``), with the functions from
devstack_functions.sh: ini files are written for real and read back with
oslo.config's parser; other devstack calls are recorded.  The extra-phase
tests run the real things the plugin runs there: ``acaas-manage db sync``
on SQLite, swtpm_setup with a local CA, a swtpm daemon, the node-evidence
tool and ``whitelist generate``/``import``.
"""

import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import uuid

import pytest
from oslo_config import cfg

from acaas_nova.conf import opts as acaas_opts
from tests.functional import daemons
from tests.functional import realparts
from tests.functional.daemons import RABBIT_URL

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
STUBS = HERE / "devstack_functions.sh"
FILTER = "acaas_nova.scheduler.filters.acaas_filter.ACaaSFilter"
WEIGHER = "acaas_nova.scheduler.weighers.acaas_weigher.ACaaSWeigher"
ALL_IN_ONE = "key,mysql,rabbit,n-api,n-cond,n-sch,n-cpu,placement-api"
COMPUTE_ONLY = "n-cpu,placement-client"
PHASE_TIMEOUT = 120
# Generous: three daemons start on a shared, sometimes overloaded machine.
TRUST_DEADLINE = 180
MAIN = "import sys; from %s import main; sys.exit(main())"

# A filter line an operator (or another plugin) wrote before ours.
OPERATOR_FILTER = (
    "nova.scheduler.filters.isolated_hosts_filter.IsolatedHostsFilter"
)
NOVA_CONF_BEFORE = (
    """[DEFAULT]
host = node-a

[filter_scheduler]
available_filters = nova.scheduler.filters.all_filters
available_filters = %s
enabled_filters = ComputeFilter,ImagePropertiesFilter
"""
    % OPERATOR_FILTER
)


def _free_port_pair() -> int:
    """A port p with p and p+1 free on 127.0.0.1 (swtpm server, ctrl)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 65535 and not realparts.port_open("127.0.0.1", port + 1):
            return port
    raise RuntimeError("no free port pair")


class Node:
    """A devstack node: its directories, variables and recorded calls."""

    def __init__(self, base: pathlib.Path, services: str, **env) -> None:
        self.base = base
        self.stub = base / "stub"
        self.bin = base / "bin"
        for d in (self.stub, self.bin, base / "etc/nova"):
            d.mkdir(parents=True, exist_ok=True)
        self._bin_wrappers()
        self.nova_conf = base / "etc/nova/nova.conf"
        self.nova_conf.write_text(NOVA_CONF_BEFORE)
        self.conf_dir = base / "etc/acaas"
        self.acaas_conf = self.conf_dir / "acaas.conf"
        self.state = base / "data/acaas"
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": str(base),
            "STUB_DIR": str(self.stub),
            "STUB_BIN_DIR": str(self.bin),
            "STUB_PYTHON": sys.executable,
            "STUB_LAUNCH": "",
            "ENABLED_SERVICES": services,
            "DISABLED_SERVICES": "",
            "DEST": str(ROOT.parent),
            "DATA_DIR": str(base / "data"),
            "NOVA_CONF": str(self.nova_conf),
            "NOVA_CPU_CONF": str(base / "etc/nova/nova-cpu.conf"),
            "STACK_USER": subprocess.run(
                ["id", "-un"], capture_output=True, text=True, check=True
            ).stdout.strip(),
            "KEYSTONE_SERVICE_URI": "http://10.0.0.1/identity",
            "SERVICE_PASSWORD": "s3rvice",
            "SERVICE_PROJECT_NAME": "service",
            "REGION_NAME": "RegionOne",
            "ENABLE_DEBUG_LOG_LEVEL": "True",
            "DATABASE_TYPE": "mysql",
            "DATABASE_USER": "root",
            "DATABASE_PASSWORD": "dbpass",
            "DATABASE_HOST": "10.0.0.1",
            "ACAAS_DIR": str(ROOT),
            "ACAAS_CONF_DIR": str(self.conf_dir),
            "ACAAS_TPM_DEVICE": str(base / "no-tpm"),
            "ACAAS_WHITELIST_NAME": "devstack-test",
        }
        self.env.update(env)

    def _bin_wrappers(self) -> None:
        """The environment's python and acaas-manage, on this checkout."""
        pythonpath = "%s:%s" % (ROOT, os.environ.get("PYTHONPATH", ""))
        for name, args in (
            ("python", ""),
            ("acaas-manage", " -m acaas_nova.cmd.manage"),
            ("acaas-dcs", " -c '%s'" % MAIN % "dc_agents.dcs.service"),
            ("acaas-dcc", " -c '%s'" % MAIN % "dc_agents.dcc.service"),
        ):
            path = self.bin / name
            path.write_text(
                '#!/bin/bash\nPYTHONPATH="%s" exec "%s"%s "$@"\n'
                % (pythonpath, sys.executable, args)
            )
            path.chmod(0o755)

    def run(self, *phase: str) -> subprocess.CompletedProcess:
        """Source settings and plugin.sh for one phase, as stack.sh does."""
        script = (
            "set -o errexit -o pipefail\n"
            'source "%s"\nsource "%s/devstack/settings"\n'
            'source "%s/devstack/plugin.sh" %s\n'
            % (STUBS, ROOT, ROOT, " ".join(phase))
        )
        proc = subprocess.run(
            ["bash", "-c", script],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=PHASE_TIMEOUT,
        )
        assert proc.returncode == 0, "phase %s failed:\n%s\n%s" % (
            " ".join(phase),
            proc.stdout[-3000:],
            proc.stderr[-3000:],
        )
        return proc

    def calls(self, name: str | None = None) -> list[list[str]]:
        path = self.stub / "calls"
        if not path.exists():
            return []
        rows = [line.split("|") for line in path.read_text().splitlines()]
        return [r for r in rows if name is None or r[0] == name]

    def started(self) -> dict[str, str]:
        return {r[1]: r[2] for r in self.calls("run_process")}

    def manage(self, *args: str) -> str:
        proc = subprocess.run(
            [str(self.bin / "acaas-manage"), "--config-file"]
            + [str(self.acaas_conf), *args],
            capture_output=True,
            text=True,
            timeout=PHASE_TIMEOUT,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def json(self, *args: str):
        return json.loads(self.manage("--format", "json", *args))

    def log_tail(self, service: str, lines: int = 40) -> str:
        path = self.stub / ("%s.log" % service)
        if not path.exists():
            return "(no log)"
        text = path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop_launched(self) -> None:
        for pidfile in self.stub.glob("*.pid"):
            pid = int(pidfile.read_text())
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass


def parse(path: pathlib.Path) -> dict[str, dict[str, list[str]]]:
    """{section: {option: [values]}} as oslo.config reads the file."""
    sections: dict = {}
    cfg.ConfigParser(str(path), sections).parse()
    return sections


def one(sections, section: str, option: str) -> str:
    values = sections[section][option]
    assert len(values) == 1, (section, option, values)
    return values[0]


def _known_options() -> dict[str, set[str]]:
    return {
        (g.name if hasattr(g, "name") else g): {o.dest for o in group_opts}
        for g, group_opts in acaas_opts.list_opts()
    }


# --- post-config ----------------------------------------------------------


def test_all_in_one_post_config(tmp_path):
    node = Node(tmp_path, ALL_IN_ONE)
    node.run("stack", "install")
    node.run("stack", "post-config")

    nova = parse(node.nova_conf)
    sched = nova["filter_scheduler"]
    assert sched["available_filters"] == [
        "nova.scheduler.filters.all_filters",
        OPERATOR_FILTER,  # kept
        FILTER,
    ]
    assert one(nova, "filter_scheduler", "enabled_filters") == (
        "ComputeFilter,ImagePropertiesFilter,ACaaSFilter"
    )
    assert one(nova, "filter_scheduler", "weight_classes") == (
        "nova.scheduler.weights.all_weighers," + WEIGHER
    )
    assert one(nova, "acaas", "require_attestation") == "False"
    assert one(nova, "acaas", "attestation_ttl") == "300"
    db_url = "sqlite:///%s/acaas.sqlite" % node.stub
    assert one(nova, "acaas_database", "connection") == db_url
    assert one(nova, "DEFAULT", "host") == "node-a"  # kept

    conf = parse(node.acaas_conf)
    assert one(conf, "DEFAULT", "transport_url") == (
        "rabbit://stackrabbit:secret@127.0.0.1:5672/"
    )
    assert one(conf, "acaas_database", "connection") == db_url
    assert one(conf, "acaas", "require_attestation") == "False"
    assert one(conf, "dcs", "attestation_interval") == "60"
    assert one(conf, "dcs", "ek_ca_bundle") == str(
        node.conf_dir / "ek-ca-bundle.pem"
    )
    assert one(conf, "dcc", "host") == "node-a"  # nova's name of the node
    assert one(conf, "dcc", "tcti") == "swtpm:host=127.0.0.1,port=2321"
    assert one(conf, "dcc", "ima_log_path") == str(
        node.state / "swtpm/ascii_runtime_measurements"
    )
    assert one(conf, "compliance", "enabled") == "False"
    assert "coordination" not in conf or not conf["coordination"]
    for section in ("nova", "placement"):
        assert {k: v[0] for k, v in conf[section].items()} == {
            "auth_type": "password",
            "auth_url": "http://10.0.0.1/identity",
            "username": "nova",
            "password": "s3rvice",
            "project_name": "service",
            "user_domain_name": "Default",
            "project_domain_name": "Default",
            "region_name": "RegionOne",
        }
    # Every option written to our groups exists (no typo goes unnoticed).
    known = _known_options()
    for doc in (conf, nova):
        for group in known:
            for option in doc.get(group, {}):
                assert option in known[group], (group, option)

    assert node.calls("recreate_database") == [["recreate_database", "acaas"]]
    assert ["install_package", "swtpm", "swtpm-tools"] in node.calls()
    assert ["install_package", "tpm2-tools", "libtss2-dev"] in node.calls()
    assert node.calls("setup_develop") == [
        ["setup_develop", str(ROOT), "agent"]
    ]


def test_nova_loads_our_filter_and_weigher(tmp_path):
    """nova-scheduler's own option parsing and class loaders, fed the
    nova.conf the plugin wrote, find the ACaaS filter and weigher."""
    from nova.conf import scheduler as nova_scheduler_conf
    from nova.scheduler import filters
    from nova.scheduler import weights

    from acaas_nova import conf as acaas_conf

    node = Node(tmp_path, ALL_IN_ONE)
    node.run("stack", "post-config")
    conf = cfg.ConfigOpts()
    nova_scheduler_conf.register_opts(conf)
    acaas_conf.register_opts(conf)
    conf(
        ["--config-file", str(node.nova_conf)],
        project="nova",
        default_config_files=[],
    )
    sched = conf.filter_scheduler
    assert "ACaaSFilter" in sched.enabled_filters
    loaded = filters.HostFilterHandler().get_matching_classes(
        sched.available_filters
    )
    names = {c.__name__ for c in loaded}
    assert {"ACaaSFilter", "ComputeFilter", "ImagePropertiesFilter"} <= names
    assert set(sched.enabled_filters) <= names  # nova refuses unknown ones
    loaded = weights.HostWeightHandler().get_matching_classes(
        sched.weight_classes
    )
    names = [c.__name__ for c in loaded]
    assert "ACaaSWeigher" in names and "RAMWeigher" in names
    assert conf.acaas.require_attestation is False
    assert conf.acaas_database.connection.startswith("sqlite:///")


def test_post_config_twice_changes_nothing(tmp_path):
    node = Node(tmp_path, ALL_IN_ONE)
    node.run("stack", "post-config")
    first = (node.nova_conf.read_text(), node.acaas_conf.read_text())
    node.run("stack", "post-config")
    assert (node.nova_conf.read_text(), node.acaas_conf.read_text()) == first
    sched = parse(node.nova_conf)["filter_scheduler"]
    assert sched["available_filters"].count(FILTER) == 1
    assert (
        one(parse(node.nova_conf), "filter_scheduler", "enabled_filters")
        .split(",")
        .count("ACaaSFilter")
        == 1
    )


def test_post_config_without_filter_lists_uses_nova_defaults(tmp_path):
    node = Node(tmp_path, ALL_IN_ONE, ACAAS_REQUIRE_ATTESTATION="True")
    node.nova_conf.write_text("[DEFAULT]\n")
    node.run("stack", "post-config")
    nova = parse(node.nova_conf)
    assert nova["filter_scheduler"]["available_filters"] == [
        "nova.scheduler.filters.all_filters",
        FILTER,
    ]
    assert one(nova, "filter_scheduler", "enabled_filters") == "ACaaSFilter"
    assert one(nova, "acaas", "require_attestation") == "True"
    assert one(parse(node.acaas_conf), "acaas", "require_attestation") == (
        "True"
    )


def test_variables_reach_acaas_conf(tmp_path):
    device = tmp_path / "tpmrm0"
    device.touch()  # a node with a TPM: no swtpm
    node = Node(
        tmp_path,
        ALL_IN_ONE,
        ACAAS_TPM_DEVICE=str(device),
        ACAAS_ATTESTATION_INTERVAL="15",
        ACAAS_COMPLIANCE_ENABLED="True",
        ACAAS_COORDINATION_URL="redis://127.0.0.1:6379",
    )
    node.run("stack", "install")
    node.run("stack", "post-config")
    conf = parse(node.acaas_conf)
    assert one(conf, "dcc", "tcti") == "device:%s" % device
    assert one(conf, "dcc", "ima_log_path") == (
        "/sys/kernel/security/ima/ascii_runtime_measurements"
    )
    assert one(conf, "dcs", "attestation_interval") == "15"
    assert one(conf, "compliance", "enabled") == "True"
    assert one(conf, "coordination", "backend_url") == (
        "redis://127.0.0.1:6379"
    )
    assert ["install_package", "swtpm", "swtpm-tools"] not in node.calls()


def test_compute_only_post_config(tmp_path):
    node = Node(tmp_path, COMPUTE_ONLY)
    before = node.nova_conf.read_text()
    node.run("stack", "install")
    node.run("stack", "post-config")
    assert node.nova_conf.read_text() == before  # no scheduler here
    assert node.calls("recreate_database") == []
    conf = parse(node.acaas_conf)
    assert one(conf, "dcc", "tcti") == "swtpm:host=127.0.0.1,port=2321"
    assert one(conf, "acaas_database", "connection").startswith("sqlite:")


def test_plugin_does_nothing_on_other_nodes(tmp_path):
    node = Node(tmp_path, "key,mysql,g-api")
    for phase in (("stack", "install"), ("stack", "post-config")):
        node.run(*phase)
    assert node.calls() == []
    assert not node.acaas_conf.exists()


def test_disabled_service_stays_disabled(tmp_path):
    node = Node(tmp_path, ALL_IN_ONE, DISABLED_SERVICES="acaas-dcc")
    node.run("stack", "install")
    node.run("stack", "post-config")
    node.run("stack", "extra")
    assert node.calls("setup_develop") == [["setup_develop", str(ROOT)]]
    assert set(node.started()) == {"acaas-dcs"}


# --- extra, unstack, clean (real swtpm, real acaas-manage) -----------------


@pytest.fixture
def swtpm_programs():
    for program in ("swtpm", "swtpm_setup", "swtpm_localca"):
        realparts.require_program(program)


def _extra_node(tmp_path, services, **env) -> Node:
    port = _free_port_pair()
    measured = tmp_path / "measured"
    measured.mkdir()
    for name in ("nova-compute", "acaas-dcc"):
        (measured / name).write_text("#!/bin/sh\n# %s\n" % name)
    settings = {
        "STUB_LAUNCH": "acaas-swtpm",
        "ACAAS_SWTPM_PORT": str(port),
        "ACAAS_MEASURED_FILES": "%s/nova-compute %s/acaas-dcc %s/missing"
        % (measured, measured, measured),
    }
    settings.update(env)
    return Node(tmp_path, services, **settings)


def test_all_in_one_extra_unstack_clean(tmp_path, swtpm_programs):
    """The stacked node registers and attests with what the plugin made:
    its swtpm's EK chains to the bundle, the list matches PCR 10, the
    generated white-list covers it (DC-S, DC-C and RabbitMQ real)."""
    realparts.require_port("127.0.0.1", 5672, "RabbitMQ")
    node = _extra_node(
        tmp_path,
        ALL_IN_ONE,
        STUB_LAUNCH="acaas-swtpm,acaas-dcs,acaas-dcc",
        STUB_TRANSPORT_URL=RABBIT_URL,
        ACAAS_ATTESTATION_INTERVAL="2",
    )
    run = uuid.uuid4().hex[:10]
    try:
        node.run("stack", "post-config")
        # What a local.conf [[post-config|$ACAAS_CONF]] section would add:
        # queues of our own next to other tests on the same broker.
        for section, option, value in (
            ("DEFAULT", "control_exchange", "acaas-devstack-" + run),
            ("dcs", "topic", "acaas-dcs-" + run),
            ("dcc", "topic", "acaas-dcc-" + run),
            # A request sent before DC-S consumes its queue is lost:
            # retry soon rather than after the default 30 s.
            ("dcc", "retry_interval", "0.5"),
            ("dcc", "rpc_timeout", "5"),
        ):
            subprocess.run(
                [sys.executable, str(HERE / "devstack_ini.py"), "set"]
                + [str(node.acaas_conf), section, option, value],
                check=True,
            )
        node.run("stack", "extra")
        started = node.started()
        assert list(started) == ["acaas-dcs", "acaas-swtpm", "acaas-dcc"]
        for service in ("acaas-dcs", "acaas-dcc"):
            assert started[service] == "%s/%s --config-file %s" % (
                node.bin,
                service,
                node.acaas_conf,
            )
        assert "--tpm2" in started["acaas-swtpm"]
        assert "startup-clear" in started["acaas-swtpm"]
        assert node.env["ACAAS_SWTPM_PORT"] in started["acaas-swtpm"]
        # db sync ran: the white-list of the node's good state is stored.
        listed = node.json("whitelist", "list")
        assert [w["name"] for w in listed] == ["devstack-test"]
        shown = node.json("whitelist", "show", "devstack-test")
        assert shown["files"] == 2  # the two measured files that exist
        log = (node.state / "swtpm/ascii_runtime_measurements").read_text()
        assert log.splitlines()[0].split()[-1] == "boot_aggregate"
        # DC-S gets the swtpm local CA's root and issuing certificates.
        bundle = (node.conf_dir / "ek-ca-bundle.pem").read_text()
        assert bundle.count("BEGIN CERTIFICATE") == 2

        def trusted():
            hosts = node.json("host", "list")
            return hosts and hosts[0]["status"] == "trusted" and hosts[0]

        try:
            host = daemons.wait_for(
                trusted, TRUST_DEADLINE, 1.0, what="node-a trusted"
            )
        except AssertionError as exc:
            raise AssertionError(
                "%s\nhosts: %s\nDC-S:\n%s\nDC-C:\n%s"
                % (
                    exc,
                    node.json("host", "list"),
                    node.log_tail("acaas-dcs"),
                    node.log_tail("acaas-dcc"),
                )
            ) from None
        assert host["host"] == "node-a"
        assert "devstack-test" in str(host["whitelists"])
        # Declared before its DC-C started, bound to its swtpm's EK.
        shown = node.json("host", "show", "node-a")
        assert shown["expected_ek_fingerprint"] == shown["ek_fingerprint"]
        assert len(shown["ek_fingerprint"]) == 64
        assert node.json("host", "pending") == []

        node.run("unstack")
        assert [r[1] for r in node.calls("stop_process")] == [
            "acaas-dcs",
            "acaas-dcc",
            "acaas-swtpm",
        ]
        assert not list(node.stub.glob("*.pid"))
        node.run("clean")
        assert not node.state.exists()
        assert not node.conf_dir.exists()
        assert node.calls("mysql") == [
            [
                "mysql",
                "-uroot",
                "-pdbpass",
                "-h10.0.0.1",
                "-e",
                "DROP DATABASE IF EXISTS acaas;",
            ]
        ]
    finally:
        node.stop_launched()


def test_compute_only_extra_restack(tmp_path, swtpm_programs):
    node = _extra_node(tmp_path, COMPUTE_ONLY)
    try:
        node.run("stack", "post-config")
        # The controller has created and migrated the shared database.
        node.manage("db", "sync")
        node.run("stack", "extra")
        assert list(node.started()) == ["acaas-swtpm", "acaas-dcc"]
        assert node.calls("recreate_database") == []
        # A second stack on the same node keeps its swtpm (same EK CA),
        # begins a fresh measurement list and imports a new version.
        node.run("unstack")
        bundle = (node.conf_dir / "ek-ca-bundle.pem").read_text()
        node.run("stack", "extra")
        assert (node.conf_dir / "ek-ca-bundle.pem").read_text() == bundle
        log = (node.state / "swtpm/ascii_runtime_measurements").read_text()
        assert len(log.splitlines()) == 3  # boot_aggregate + 2 files
        listed = node.json("whitelist", "list")
        assert [w["name"] for w in listed] == ["devstack-test"] * 2
        assert listed[0]["version"] != listed[1]["version"]
        # Declared once, bound to the EK of its swtpm (kept across stacks).
        (declared,) = node.json("host", "list")
        shown = node.json("host", "show", declared["host"])
        assert len(shown["expected_ek_fingerprint"]) == 64
        node.run("unstack")
    finally:
        node.stop_launched()


def test_node_evidence_errors_are_one_line(tmp_path):
    tool = ROOT / "devstack/tools/acaas_node_evidence.py"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    nobody = "swtpm:host=127.0.0.1,port=1"
    for args, expected in (
        (
            ["measure", "--tcti", nobody, "--log", str(tmp_path / "log")]
            + [str(tmp_path / "missing")],
            "No such file or directory",
        ),
        (
            ["pcrs", "--tcti", nobody, "--output", str(tmp_path / "p")],
            "open %s failed" % nobody,
        ),
    ):
        proc = subprocess.run(
            [sys.executable, str(tool), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=PHASE_TIMEOUT,
        )
        assert proc.returncode == 1, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        assert lines[0].startswith("acaas_node_evidence: error: ")
        assert expected in lines[0]


# --- shellcheck -------------------------------------------------------------


def test_shellcheck_clean():
    shellcheck = shutil.which("shellcheck")
    realparts.require(shellcheck is not None, "program shellcheck")
    proc = subprocess.run(
        [
            shellcheck,
            "--external-sources",
            str(ROOT / "devstack/settings"),
            str(ROOT / "devstack/plugin.sh"),
            str(STUBS),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout
