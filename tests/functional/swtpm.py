"""Real swtpm instances for functional tests.

* :class:`SwtpmCA` is a private swtpm-localca (its own config files and CA
  keys in a temporary directory, never the system one) that swtpm_setup
  uses to write EK certificates into a TPM's NV.
* :class:`SwtpmFactory` provisions TPM state with that CA and starts swtpm
  daemons on unix sockets, each in its own directory, and stops them by pid.
  Provisioning takes about 0.6 s per TPM, so by default one provisioned
  template state is copied for each new TPM (all copies share the EK);
  ``unique=True`` provisions a TPM with its own EK.

The pytest fixtures at the bottom are imported by the test modules that
need them: ``swtpm_ca_template`` / ``swtpm_ca`` and
``other_swtpm_ca_template`` (session), ``swtpm_factory`` and ``swtpm`` (one
started TPM) per test.  Outside pytest (daemon helpers, benchmarks) use the
classes directly and call :meth:`SwtpmFactory.stop_all` when done.
"""

import importlib.util
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.functional import realparts

SETUP_TIMEOUT = 60
START_TIMEOUT = 10
MAX_SOCKET_PATH = 100


class SwtpmCA:
    """A private swtpm-localca: configuration plus CA keys in one folder."""

    def __init__(self, directory: Path, name: str = "ACaaS test") -> None:
        realparts.require_program("swtpm_setup")
        self.localca = realparts.require_program("swtpm_localca")
        self.dir = Path(directory)
        self.ca_dir = self.dir / "ca"
        self.ca_dir.mkdir(parents=True, exist_ok=True)
        self.config = self.dir / "swtpm_setup.conf"
        (self.dir / "localca.conf").write_text(
            "statedir = %s\nsigningkey = %s\n"
            "issuercert = %s\ncertserial = %s\n"
            % (
                self.ca_dir,
                self.ca_dir / "signkey.pem",
                self.ca_dir / "issuercert.pem",
                self.ca_dir / "certserial",
            )
        )
        (self.dir / "localca.options").write_text(
            "--platform-manufacturer %s\n--platform-version 2.1\n"
            "--platform-model swtpm\n" % name.replace(" ", "-")
        )
        self.config.write_text(
            "create_certs_tool = %s\ncreate_certs_tool_config = %s\n"
            "create_certs_tool_options = %s\nactive_pcr_banks = sha1,sha256\n"
            % (
                self.localca,
                self.dir / "localca.conf",
                self.dir / "localca.options",
            )
        )

    def provision(self, state_dir: Path) -> None:
        """Manufacture a TPM 2.0 state with EK certificates in NV."""
        state_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            "swtpm_setup",
            "--tpm2",
            "--tpmstate",
            str(state_dir),
            "--config",
            str(self.config),
            "--create-ek-cert",
            "--pcr-banks",
            "sha1,sha256",
            "--overwrite",
            "--logfile",
            str(state_dir.parent / (state_dir.name + "-setup.log")),
        ]
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=SETUP_TIMEOUT
        )
        if proc.returncode != 0:
            raise RuntimeError(
                "swtpm_setup failed (%d): %s"
                % (proc.returncode, proc.stderr.strip()[-500:])
            )

    @property
    def bundle_pem(self) -> bytes:
        """Root and intermediate CA certificates (PEM) of this CA."""
        return (self.ca_dir / "swtpm-localca-rootca-cert.pem").read_bytes() + (
            self.ca_dir / "issuercert.pem"
        ).read_bytes()


class Swtpm:
    """One swtpm daemon on a unix socket."""

    def __init__(self, directory: Path) -> None:
        self.dir = Path(directory)
        self.state = self.dir / "state"
        self.socket = self.dir / "tpm.sock"
        self._short_dir: str | None = None
        if len(str(self.socket)) + len(".ctrl") > MAX_SOCKET_PATH:
            # sun_path holds 108 bytes; deep temporary folders exceed it.
            self._short_dir = tempfile.mkdtemp(prefix="swtpm")
            self.socket = Path(self._short_dir) / "tpm.sock"
        self.proc: subprocess.Popen | None = None

    @property
    def tcti(self) -> str:
        return "swtpm:path=%s" % self.socket

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> "Swtpm":
        for path in (self.socket, Path(str(self.socket) + ".ctrl")):
            path.unlink(missing_ok=True)
        log = open(self.dir / "swtpm.log", "ab")
        self.proc = subprocess.Popen(
            [
                realparts.require_program("swtpm"),
                "socket",
                "--tpm2",
                "--server",
                "type=unixio,path=%s" % self.socket,
                "--ctrl",
                "type=unixio,path=%s.ctrl" % self.socket,
                "--tpmstate",
                "dir=%s" % self.state,
                "--flags",
                "not-need-init,startup-clear",
            ],
            stdout=log,
            stderr=log,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while not self.socket.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(
                    "swtpm exited with %d, see %s"
                    % (self.proc.returncode, self.dir / "swtpm.log")
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("swtpm did not create its socket")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop the daemon (SIGTERM, then SIGKILL) by its pid."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = None
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        self.proc = None

    def cleanup(self) -> None:
        """Stop the daemon and remove a socket folder made outside dir."""
        self.stop()
        if self._short_dir is not None:
            shutil.rmtree(self._short_dir, ignore_errors=True)
            self._short_dir = None

    def restart(self) -> None:
        """Stop and start on the same state: a TPM Reset (a reboot)."""
        self.stop()
        self.start()


class SwtpmFactory:
    """Creates provisioned, started swtpm instances below one directory."""

    def __init__(self, base: Path, ca: SwtpmCA, template: Path | None):
        self.base = Path(base)
        self.ca = ca
        self.template = template
        self.instances: list[Swtpm] = []

    def new(self, unique: bool = False) -> Swtpm:
        """A started swtpm; ``unique`` gives it an EK of its own."""
        tpm = Swtpm(self.base / ("tpm%d" % len(self.instances)))
        tpm.dir.mkdir(parents=True)
        if unique or self.template is None:
            self.ca.provision(tpm.state)
        else:
            shutil.copytree(self.template, tpm.state)
        self.instances.append(tpm)
        return tpm.start()

    def stop_all(self) -> None:
        for tpm in self.instances:
            tpm.cleanup()


def _make_ca(tmp_path_factory, name: str) -> tuple[SwtpmCA, Path]:
    realparts.require(
        importlib.util.find_spec("tpm2_pytss") is not None,
        "python package tpm2-pytss",
    )
    base = tmp_path_factory.mktemp(name.replace(" ", "-"))
    ca = SwtpmCA(base, name)
    template = base / "template-state"
    ca.provision(template)
    return ca, template


@pytest.fixture(scope="session")
def swtpm_ca_template(tmp_path_factory):
    """The session's CA and a TPM state provisioned by it."""
    return _make_ca(tmp_path_factory, "ACaaS test CA")


@pytest.fixture(scope="session")
def swtpm_ca(swtpm_ca_template) -> SwtpmCA:
    return swtpm_ca_template[0]


@pytest.fixture(scope="session")
def other_swtpm_ca_template(tmp_path_factory):
    """A second, unrelated CA (for 'EK certificate from another CA')."""
    return _make_ca(tmp_path_factory, "Other CA")


@pytest.fixture
def swtpm_factory(swtpm_ca_template, tmp_path):
    ca, template = swtpm_ca_template
    factory = SwtpmFactory(tmp_path / "swtpm", ca, template)
    yield factory
    factory.stop_all()


@pytest.fixture
def swtpm(swtpm_factory) -> Swtpm:
    """One started swtpm provisioned by the session CA."""
    return swtpm_factory.new()
