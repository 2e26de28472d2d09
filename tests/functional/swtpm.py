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

from acaas_nova.demo import swtpm as demo_swtpm
from acaas_nova.demo.swtpm import probe_ready  # noqa: F401 (tests use it)
from tests.functional import realparts

SETUP_TIMEOUT = 60
START_TIMEOUT = 10
MAX_SOCKET_PATH = 100


class SwtpmCA(demo_swtpm.DemoCA):
    """A private swtpm-localca: configuration plus CA keys in one folder
    (the demo's, with a missing program failing or skipping the test)."""

    def __init__(self, directory: Path, name: str = "ACaaS test") -> None:
        realparts.require_program("swtpm_setup")
        realparts.require_program("swtpm_localca")
        super().__init__(directory, manufacturer=name.replace(" ", "-"))

    def provision(self, state_dir: Path) -> None:
        """Manufacture a TPM 2.0 state with EK certificates in NV."""
        self.wait(
            self.manufacture(
                state_dir, state_dir.parent / (state_dir.name + "-setup.log")
            )
        )


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
        try:
            self._wait_ready(time.monotonic() + START_TIMEOUT)
        except RuntimeError:
            self.stop()
            raise
        return self

    @property
    def log_path(self) -> Path:
        return self.dir / "swtpm.log"

    def log_tail(self, size: int = 2000) -> str:
        try:
            return self.log_path.read_bytes()[-size:].decode(errors="replace")
        except OSError:
            return "(no log)"

    def _wait_ready(self, deadline: float) -> None:
        """Wait until both sockets answer a real request, or raise.

        A socket file exists as soon as swtpm has bound it, before it
        listens and before the TPM has run Startup; a client connecting
        then gets "tcti:IO failure".  Ready means: the control channel
        answers CMD_GET_CAPABILITY and the server socket answers
        TPM2_GetRandom with TPM_RC_SUCCESS.
        """
        last = "sockets not created"
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    "swtpm exited with %d; log %s:\n%s"
                    % (self.proc.returncode, self.log_path, self.log_tail())
                )
            try:
                probe_ready(self.socket)
                return
            except OSError as exc:
                last = "%s: %s" % (type(exc).__name__, exc)
            if time.monotonic() > deadline:
                raise RuntimeError(
                    "swtpm not ready after %ds (last probe: %s); log %s:\n%s"
                    % (START_TIMEOUT, last, self.log_path, self.log_tail())
                )
            time.sleep(0.01)

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
