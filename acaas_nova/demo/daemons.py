"""DC-S and the DC-C agents of the demo, from ordinary config files.

Every daemon gets an ``acaas.conf`` of the product's options.  With the
default ``fake://`` transport (oslo.messaging's in-process driver) the
daemons run as threads of the demo process, built from the same modules
as ``acaas-dcs`` / ``acaas-dcc`` and sharing one transport (the in-process
driver only connects what shares it).  With a real ``--transport-url``
each runs as its own ``acaas-dcs`` / ``acaas-dcc`` process.
"""

import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from oslo_config import cfg

from acaas_nova import conf as acaas_conf
from acaas_nova import exception
from dc_agents import rpc
from dc_agents.dcc import agent as agent_mod
from dc_agents.dcc import manager as dcc_manager
from dc_agents.dcc import rpcapi as dcc_rpcapi
from dc_agents.dcc import service as dcc_service
from dc_agents.dcs import rounds
from dc_agents.dcs import rpcapi as dcs_rpcapi
from dc_agents.dcs import service as dcs_service

LOG = logging.getLogger(__name__)
#: [dcs] attestation_interval and attestation_deadline (seconds)
INTERVAL = 2.0
DEADLINE = 3.0
START_TIMEOUT = 30
#: What every daemon's acaas.conf holds (a [dcc] section ends it; each
#: agent appends its node's options).  Compliance sweeps every interval;
#: it runs in the demo process (see compliance_loop), never in acaas-dcs.
COMMON = """\
[DEFAULT]
transport_url = %(url)s
control_exchange = acaas-demo-%(run)s
[acaas_database]
connection = %(db)s
[compliance]
enabled = false
sweep_interval = %(interval)s
retry_backoff = 0
max_untrusted_fraction = 0.5
[dcs]
topic = acaas-dcs-%(run)s
attestation_interval = %(interval)s
attestation_jitter = 0.1
attestation_deadline = %(deadline)s
attestation_workers = 4
ek_ca_bundle = %(bundle)s
ca_path = %(ca)s
[dcc]
topic = acaas-dcc-%(run)s
ak_type = ecc256
"""


def load_conf(path: Path):
    conf = cfg.ConfigOpts()
    acaas_conf.register_opts(conf)
    conf(
        ["--config-file", str(path)], project="acaas", default_config_files=[]
    )
    return conf


class Daemons:
    """Configuration files and the running DC-S and DC-Cs."""

    def __init__(self, base: Path, transport_url: str, db_url: str, ca_pem):
        self.base = Path(base)
        self.url = transport_url
        self.in_process = transport_url.startswith("fake:")
        self.db_url = db_url
        (self.base / "ek-ca.pem").write_bytes(ca_pem)
        self.common = COMMON % {
            "url": transport_url,
            "run": uuid.uuid4().hex[:8],
            "db": db_url,
            "interval": INTERVAL,
            "deadline": DEADLINE,
            "bundle": self.base / "ek-ca.pem",
            "ca": self.base / "dcs-ca",
        }
        self.transport = None
        self.dcs = None
        self.procs: dict[str, subprocess.Popen] = {}
        self.agent_threads: list[threading.Thread] = []
        self.rpc_servers: list = []
        self.failed: list[str] = []
        self.stop_event = threading.Event()

    def write(self, name: str, extra: str = "") -> Path:
        path = self.base / ("%s.conf" % name)
        path.write_text(self.common + extra)
        return path

    def dcs_conf(self):
        """DC-S's options, for the compliance loop run by the demo."""
        return load_conf(self.write("dcs"))

    # -- start -------------------------------------------------------------

    def start_dcs(self) -> None:
        path = self.write("dcs")
        if not self.in_process:
            self._spawn("acaas-dcs", "dcs", path)
            self._wait_started()
            return
        conf = load_conf(path)
        self.transport = rpc.get_transport(conf)
        self.dcs = dcs_service.build(conf, self.transport)
        self.dcs.start()

    def start_dcc(self, node) -> None:
        path = self.write("dcc-%s" % node.name, node.dcc_section())
        if not self.in_process:
            self._spawn("acaas-dcc", "dcc-%s" % node.name, path)
            return
        thread = threading.Thread(
            target=self._run_agent,
            args=(load_conf(path),),
            name="dcc-%s" % node.name,
            daemon=True,
        )
        thread.start()
        self.agent_threads.append(thread)

    def _run_agent(self, conf) -> None:
        try:
            self._agent(conf)
        except Exception as exc:  # noqa: BLE001 -- reported by check_alive
            LOG.exception("DC-C %s failed", conf.dcc.host)
            self.failed.append(
                "DC-C %s: %s: %s" % (conf.dcc.host, type(exc).__name__, exc)
            )

    def _agent(self, conf) -> None:
        """acaas-dcc's main(), on the shared in-process transport."""
        api = dcs_rpcapi.DCSAPI(
            conf, self.transport, timeout=conf.dcc.rpc_timeout
        )
        agent = agent_mod.Agent(conf, api)
        name = rpc.server_name(agent.host, agent.hypervisor)
        endpoint = dcc_manager.DCCManager(agent)
        partition = rounds.partition(name, conf.dcs.round_partitions)
        servers = [
            rpc.get_server(conf, self.transport, topic, name, [endpoint])
            for topic in (
                conf.dcc.topic,
                dcc_rpcapi.round_topic(conf, partition),
            )
        ]
        for server in servers:
            server.start()
        self.rpc_servers.extend(servers)
        if not dcc_service.enrol_until_done(agent, conf, self.stop_event):
            self.failed.append("DC-C %s did not register" % name)

    def _spawn(self, script: str, name: str, conf: Path) -> None:
        log = open(self.base / ("%s.log" % name), "ab")
        binary = Path(sys.executable).parent / script
        try:
            self.procs[name] = subprocess.Popen(
                [str(binary), "--config-file", str(conf)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(os.environ, TSS2_LOG="all+none"),
            )
        except OSError as exc:
            raise exception.DemoStepFailed(
                reason="cannot start %s: %s" % (script, exc)
            ) from None
        finally:
            log.close()

    def _wait_started(self) -> None:
        """Until acaas-dcs serves: agents' first requests must not be lost
        before its queues exist."""
        log = self.base / "dcs.log"
        deadline = time.monotonic() + START_TIMEOUT
        while "acaas-dcs started" not in log.read_text(errors="replace"):
            self.check_alive()
            if time.monotonic() > deadline:
                raise exception.DemoStepFailed(
                    reason="acaas-dcs did not start within %ds: %s"
                    % (START_TIMEOUT, self.last_log_line("dcs"))
                )
            time.sleep(0.1)

    def last_log_line(self, name: str) -> str:
        try:
            text = (self.base / ("%s.log" % name)).read_text(errors="replace")
        except OSError:
            return "(no log)"
        lines = [line for line in text.splitlines() if line.strip()]
        errors = [ln for ln in lines if " ERROR " in ln or " CRITICAL " in ln]
        lines = errors or lines
        return lines[-1][-300:] if lines else "(empty log)"

    def check_alive(self) -> None:
        if self.failed:
            raise exception.DemoStepFailed(reason="; ".join(self.failed))
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise exception.DemoStepFailed(
                    reason="%s exited with %d: %s"
                    % (name, proc.returncode, self.last_log_line(name))
                )

    # -- stop --------------------------------------------------------------

    def stop(self) -> None:
        self.stop_event.set()
        for proc in self.procs.values():
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        for thread in self.agent_threads:
            thread.join(timeout=10)
        for server in self.rpc_servers:
            server.stop()
        for server in self.rpc_servers:
            server.wait()
        if self.dcs is not None:
            self.dcs.stop()
        if self.transport is not None:
            rpc.cleanup(self.transport)
