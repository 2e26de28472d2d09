"""Real DC-S and DC-C processes for functional tests and the benchmark.

:class:`Cluster` writes configuration files, starts ``acaas-dcs`` and
``acaas-dcc`` console scripts as subprocesses against the real RabbitMQ
and database, and stops them by pid.  Each run uses its own exchange and
topics so parallel runs never see each other's messages.  A
:class:`SimNode` is a compute node: a real swtpm plus an IMA measurement
list file that the test appends to while extending PCR 10 the way the
kernel does (list entry first, then the TPM extend).
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from acaas_nova import context as acaas_context
from acaas_nova.db import nodes as nodes_db
from acaas_nova.evidence import ima_build
from acaas_nova.tpm.device import TPMDevice
from tests.functional import realparts

RABBIT_URL = os.environ.get(
    "ACAAS_TEST_RABBIT_URL", "rabbit://guest:guest@127.0.0.1:5672/"
)
BIN = Path(sys.executable).parent
STARTED = "acaas-dcs started"
GOOD_FILES = {
    "/usr/bin/python3.11": b"python interpreter",
    "/usr/bin/nova-compute": b"nova-compute",
    "/etc/nova/nova.conf": b"[DEFAULT]\nhost = x\n",
}


def require_rabbit() -> None:
    realparts.require_port("127.0.0.1", 5672, "RabbitMQ")


class SimNode:
    """A compute node: swtpm + IMA log file extended like the kernel."""

    def __init__(self, name: str, swtpm, directory: Path) -> None:
        self.name = name
        self.swtpm = swtpm
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.dir / "ascii_runtime_measurements"
        self.state_path = self.dir / "dcc-state"
        self.log = ima_build.LogBuilder(("sha1", "sha256"))
        self.log_path.write_text("")

    def boot(self, files=GOOD_FILES) -> None:
        """boot_aggregate, then the good files (as a fresh boot)."""
        with TPMDevice(self.swtpm.tcti) as tpm:
            pcrs = tpm.pcr_read({"sha256": range(10), "sha1": range(10)})
        self._append(self.log.add_boot_aggregate(pcrs, "sha256"))
        for path, content in files.items():
            self.measure(path, content)

    def _append(self, line: str) -> None:
        with open(self.log_path, "a") as log:
            log.write(line + "\n")
        with TPMDevice(self.swtpm.tcti) as tpm:
            tpm.pcr_extend(10, {b: v[-1] for b, v in self.log.extends.items()})

    def measure(self, path: str, content: bytes) -> None:
        """Measure a file: append its entry, then extend PCR 10."""
        line = self.log.add_file(path, content)
        self._append(line)

    def measure_many(self, files) -> None:
        """Measure many (path, content) files at once: append their
        entries, then extend PCR 10 with each in one TPM session (the
        log runs ahead of the PCR meanwhile, as the kernel's may)."""
        lines = [self.log.add_file(path, content) for path, content in files]
        with open(self.log_path, "a") as log:
            log.write("".join(line + "\n" for line in lines))
        with TPMDevice(self.swtpm.tcti) as tpm:
            for i in range(len(lines), 0, -1):
                tpm.pcr_extend(
                    10, {b: v[-i] for b, v in self.log.extends.items()}
                )

    def change_boot_state(self) -> None:
        """Extend PCR 7: the sealed secret no longer unseals."""
        with TPMDevice(self.swtpm.tcti) as tpm:
            tpm.pcr_extend(7, {"sha256": bytes(32), "sha1": bytes(20)})


class Cluster:
    """Configuration and processes of one DC-S and several DC-Cs."""

    def __init__(
        self,
        base: Path,
        db_url: str,
        ek_ca_bundle: bytes,
        transport_url: str = RABBIT_URL,
        **dcs,
    ):
        require_rabbit()
        self.transport_url = transport_url
        self.base = Path(base)
        self.base.mkdir(parents=True, exist_ok=True)
        self.db_url = db_url
        run = uuid.uuid4().hex[:10]
        self.exchange = "acaas-test-%s" % run
        self.dcs_topic = "acaas-dcs-%s" % run
        self.dcc_topic = "acaas-dcc-%s" % run
        self.bundle = self.base / "ek-ca.pem"
        self.bundle.write_bytes(ek_ca_bundle)
        self.dcs_opts = {
            "attestation_interval": 1.5,
            "attestation_jitter": 0.1,
            "attestation_deadline": 2.0,
            "attestation_workers": 4,
            "max_message_bytes": 1024 * 1024,
            "ek_ca_bundle": self.bundle,
            "ca_path": self.base / "dcs-ca",
            # Test clouds call attest_host on the agents' broker vhost;
            # test_operator_broker covers a vhost of its own.
            "operator_on_agent_transport": True,
            # Queue names are global to the broker's vhost, whatever the
            # exchange: with the default topic, concurrent runs would
            # answer each other's operator calls.
            "operator_topic": "acaas-dcs-admin-%s" % run,
        }
        self.dcs_opts.update(dcs)
        self.dcs_proc: subprocess.Popen | None = None
        self.dcc_procs: dict[str, subprocess.Popen] = {}
        self.workers: dict[str, subprocess.Popen] = {}
        self.nodes: dict[str, SimNode] = {}

    # -- configuration -------------------------------------------------------

    def common_conf(self) -> str:
        return (
            "[DEFAULT]\ntransport_url = %s\ncontrol_exchange = %s\n"
            "debug = true\n"
            "[oslo_messaging_rabbit]\nrabbit_retry_interval = 1\n"
            "rabbit_retry_backoff = 1\nrabbit_interval_max = 2\n"
            "[acaas_database]\nconnection = %s\n"
            "[dcs]\ntopic = %s\n%s\n[dcc]\ntopic = %s\n"
            % (
                self.transport_url,
                self.exchange,
                self.db_url,
                self.dcs_topic,
                "\n".join("%s = %s" % kv for kv in self.dcs_opts.items()),
                self.dcc_topic,
            )
        )

    def write_conf(self, name: str, extra: str = "") -> Path:
        path = self.base / ("%s.conf" % name)
        path.write_text(self.common_conf() + extra)
        return path

    def client_conf(self):
        """A ConfigOpts for the test process itself (RPC clients)."""
        from oslo_config import cfg

        from acaas_nova import conf as acaas_conf

        conf = cfg.ConfigOpts()
        acaas_conf.register_opts(conf)
        conf(
            ["--config-file", str(self.write_conf("client"))],
            project="acaas",
            default_config_files=[],
        )
        return conf

    # -- processes ---------------------------------------------------------

    def _spawn(self, script: str, name: str, conf: Path) -> subprocess.Popen:
        log = open(self.base / ("%s.log" % name), "ab")
        env = dict(os.environ, TSS2_LOG="all+none")
        try:
            return subprocess.Popen(
                [str(BIN / script), "--config-file", str(conf)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        finally:
            log.close()

    def start_dcs(self, wait: float = 30.0) -> None:
        """Start DC-S and wait until it serves (its queue exists, so
        agents' first requests are not dropped)."""
        self.dcs_proc = self._start_dcs("dcs", "", wait)

    def start_worker(self, name: str, extra: str, wait: float = 30.0):
        """Start one more DC-S worker ``name`` (``extra``: configuration
        sections appended, e.g. ``[coordination]``) and wait until it
        serves."""
        self.start_workers({name: extra}, wait)
        return self.workers[name]

    def start_workers(self, extras: dict[str, str], wait: float = 60.0):
        """Start several DC-S workers at once (name -> ``extra``) and wait
        until every one serves."""
        started = {}
        for name, extra in extras.items():
            started[name] = self._spawn_dcs(name, extra)
        for name, (proc, before) in started.items():
            self.workers[name] = proc
            self._wait_started(name, proc, before, wait)

    def stop_worker(self, name: str, sig=signal.SIGTERM) -> int | None:
        return self._stop(self.workers.pop(name, None), sig)

    def _start_dcs(self, name: str, extra: str, wait: float):
        proc, before = self._spawn_dcs(name, extra)
        self._wait_started(name, proc, before, wait)
        return proc

    def _spawn_dcs(self, name: str, extra: str):
        log = self.base / ("%s.log" % name)
        before = (
            log.read_text(errors="replace").count(STARTED)
            if log.exists()
            else 0
        )
        conf = self.write_conf(name, extra)
        return self._spawn("acaas-dcs", name, conf), before

    def _wait_started(self, name, proc, before, wait) -> None:
        log = self.base / ("%s.log" % name)
        wait_for(
            lambda: (
                log.read_text(errors="replace").count(STARTED) > before
                or proc.poll() is not None
            ),
            wait,
            what="DC-S %s start" % name,
        )
        if proc.poll() is not None:
            raise RuntimeError(
                "acaas-dcs %s exited: %s" % (name, self.log_tail(name))
            )

    def add_node(self, name: str, swtpm, domain: str | None = None):
        node = SimNode(name, swtpm, self.base / name)
        self.nodes[name] = node
        return node

    @staticmethod
    def declare(name: str, domain=None, ek_fingerprint=None) -> None:
        """Declare node ``name`` as an operator does (acaas-manage host
        add) so that its DC-C may register: DC-S registers no undeclared
        host name.  The test process's database must be configured."""
        nodes_db.node_create(
            acaas_context.get_admin_context(),
            name,
            name,
            domain=domain,
            expected_ek_fingerprint=ek_fingerprint,
        )

    def start_dcc(self, name: str, domain: str | None = None, **dcc) -> None:
        """Start node ``name``'s DC-C (``domain``: its ``[dcc] domain``,
        which DC-S only compares with the operator's; ``dcc``: more [dcc]
        options)."""
        node = self.nodes[name]
        extra = (
            "host = %s\ntcti = %s\nima_log_path = %s\nstate_path = %s\n"
            "retry_interval = 0.5\nrpc_timeout = 5\n"
            % (name, node.swtpm.tcti, node.log_path, node.state_path)
        )
        if domain:
            extra += "domain = %s\n" % domain
        extra += "".join("%s = %s\n" % kv for kv in dcc.items())
        conf = self.write_conf("dcc-%s" % name, extra)
        self.dcc_procs[name] = self._spawn("acaas-dcc", "dcc-%s" % name, conf)

    @staticmethod
    def _stop(proc, sig=signal.SIGTERM, timeout=20.0) -> int | None:
        if proc is None or proc.poll() is not None:
            return None if proc is None else proc.returncode
        os.kill(proc.pid, sig)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            return proc.wait(timeout=10)

    def stop_dcs(self, sig=signal.SIGTERM) -> int | None:
        code = self._stop(self.dcs_proc, sig)
        self.dcs_proc = None
        return code

    def stop_dcc(self, name: str, sig=signal.SIGTERM) -> int | None:
        return self._stop(self.dcc_procs.pop(name, None), sig)

    def stop_all(self) -> None:
        """SIGTERM every process at once, then wait for each (in turn,
        each agent's shutdown would add up)."""
        procs = [*self.dcc_procs.values(), *self.workers.values()]
        procs.append(self.dcs_proc)
        for proc in procs:
            if proc is not None and proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
        for name in list(self.dcc_procs):
            self.stop_dcc(name)
        for name in list(self.workers):
            self.stop_worker(name)
        self.stop_dcs()

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.base / ("%s.log" % name)
        if not path.exists():
            return ""
        return "\n".join(
            path.read_text(errors="replace").splitlines()[-lines:]
        )


def wait_for(predicate, timeout: float, interval: float = 0.2, what=""):
    """Poll ``predicate`` until it returns a true value; return it."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                "timed out after %ss waiting for %s" % (timeout, what)
            )
        time.sleep(interval)
