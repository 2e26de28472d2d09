"""The demo's TPMs: swtpm instances with EK certificates from a demo CA.

:class:`DemoCA` is a private ``swtpm_localca`` (its configuration and CA
keys in the demo's temporary folder, never the system one); ``swtpm_setup``
uses it to manufacture each TPM: an endorsement key and its certificate in
NV, signed by the demo CA.  DC-S gets the CA's certificates as its EK CA
bundle.  :class:`Swtpm` runs one ``swtpm socket`` daemon on a unix socket
and stops it by its pid.
"""

import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from pathlib import Path

from acaas_nova import exception

SETUP_TIMEOUT = 60
START_TIMEOUT = 10
#: swtpm control channel: CMD_GET_CAPABILITY answers an 8-byte bit mask.
_CMD_GET_CAPABILITY = struct.pack(">I", 1)
#: TPM2_GetRandom(8) without sessions (TPM 2.0 Part 3, 16.1): answers
#: once Startup has run.
_GET_RANDOM = struct.pack(">HIIH", 0x8001, 12, 0x17B, 8)
_PROBE_TIMEOUT = 2.0


def program(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise exception.DemoStepFailed(
            reason="program %s not found (tools/demo.sh installs swtpm "
            "with apt-get)" % name
        )
    return path


class DemoCA:
    """A private swtpm-localca issuing the demo TPMs' EK certificates."""

    def __init__(
        self, directory: Path, manufacturer: str = "ACaaS-demo"
    ) -> None:
        program("swtpm_setup")
        self.dir = Path(directory)
        self.ca_dir = self.dir / "ca"
        self.ca_dir.mkdir(parents=True, exist_ok=True)
        self.config = self.dir / "swtpm_setup.conf"
        (self.dir / "localca.conf").write_text(
            "statedir = %s\nsigningkey = %s\nissuercert = %s\n"
            "certserial = %s\n"
            % (
                self.ca_dir,
                self.ca_dir / "signkey.pem",
                self.ca_dir / "issuercert.pem",
                self.ca_dir / "certserial",
            )
        )
        (self.dir / "localca.options").write_text(
            "--platform-manufacturer %s\n--platform-version 2.1\n"
            "--platform-model swtpm\n" % manufacturer
        )
        self.config.write_text(
            "create_certs_tool = %s\ncreate_certs_tool_config = %s\n"
            "create_certs_tool_options = %s\nactive_pcr_banks = sha1,sha256\n"
            % (
                program("swtpm_localca"),
                self.dir / "localca.conf",
                self.dir / "localca.options",
            )
        )

    def manufacture(
        self, state_dir: Path, logfile: Path | None = None
    ) -> subprocess.Popen:
        """Start manufacturing a TPM state (EK + certificate in NV);
        swtpm_setup logs to ``logfile`` (default: setup.log beside it)."""
        state_dir.mkdir(parents=True, exist_ok=True)
        return subprocess.Popen(
            [
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
                str(logfile or state_dir.parent / "setup.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    @staticmethod
    def wait(proc: subprocess.Popen) -> None:
        if proc.returncode is not None and proc.stderr.closed:
            return
        _out, err = proc.communicate(timeout=SETUP_TIMEOUT)
        if proc.returncode != 0:
            raise exception.DemoStepFailed(
                reason="swtpm_setup failed (%d): %s"
                % (proc.returncode, (err or "").strip()[-300:])
            )

    @property
    def bundle_pem(self) -> bytes:
        """The CA's root and intermediate certificates (DC-S's bundle)."""
        root = self.ca_dir / "swtpm-localca-rootca-cert.pem"
        return (
            root.read_bytes() + (self.ca_dir / "issuercert.pem").read_bytes()
        )


def _read(sock: socket.socket, size: int, what: str) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError(
                "%s closed after %d bytes" % (what, len(data))
            )
        data += chunk
    return data


def _connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(_PROBE_TIMEOUT)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        raise
    return sock


def probe_ready(server_socket) -> None:
    """Raise OSError unless the swtpm behind server_socket serves.

    A socket file exists as soon as swtpm has bound it, before the TPM has
    run Startup: ready means the control channel answers
    CMD_GET_CAPABILITY and the TPM answers TPM2_GetRandom with
    TPM_RC_SUCCESS.
    """
    with _connect(Path(str(server_socket) + ".ctrl")) as ctrl:
        ctrl.sendall(_CMD_GET_CAPABILITY)
        _read(ctrl, 8, "control socket")
    with _connect(server_socket) as tpm:
        tpm.sendall(_GET_RANDOM)
        _tag, size, rc = struct.unpack(">HII", _read(tpm, 10, "TPM socket"))
        if size > 10:
            _read(tpm, min(size, 4096) - 10, "TPM socket")
    if rc != 0:
        raise ConnectionError("TPM2_GetRandom answered rc 0x%x" % rc)


class Swtpm:
    """One swtpm daemon serving a TPM state on a unix socket."""

    def __init__(self, directory: Path) -> None:
        self.dir = Path(directory)
        self.state = self.dir / "state"
        # sun_path holds 108 bytes: keep the sockets in a short folder.
        self._sock_dir = tempfile.mkdtemp(prefix="acaas-tpm")
        self.socket = os.path.join(self._sock_dir, "tpm.sock")
        self.proc: subprocess.Popen | None = None

    @property
    def tcti(self) -> str:
        return "swtpm:path=%s" % self.socket

    def start(self) -> None:
        log = open(self.dir / "swtpm.log", "ab")
        self.proc = subprocess.Popen(
            [
                program("swtpm"),
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

    def wait_ready(self) -> None:
        """Until the control channel and the TPM answer real requests."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise exception.DemoStepFailed(
                    reason="swtpm exited with %d (log in %s)"
                    % (self.proc.returncode, self.dir / "swtpm.log")
                )
            try:
                probe_ready(self.socket)
                return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise exception.DemoStepFailed(
                    reason="swtpm not ready after %ds" % START_TIMEOUT
                )
            time.sleep(0.02)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.proc = None
        shutil.rmtree(self._sock_dir, ignore_errors=True)
