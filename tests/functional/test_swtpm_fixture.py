"""The swtpm fixture hands out a TPM only once it really serves.

"The socket file exists" is not readiness: swtpm binds before it listens
and before Startup has run, and a client connecting in between gets
"tcti:IO failure".  These tests exercise the readiness probe against a
socket that exists but does not serve, and open a freshly started swtpm
through the TCTI straight away, many times.
"""

import socket

import pytest

from acaas_nova.demo import swtpm as demo_swtpm
from acaas_nova.tpm.device import TPMDevice
from tests.functional import swtpm as swtpm_mod
from tests.functional.swtpm import swtpm_ca  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_ca_template  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_factory  # noqa: F401 (pytest fixtures)


def test_probe_refuses_a_bound_socket_that_does_not_listen(tmp_path):
    path = tmp_path / "tpm.sock"
    bound = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    bound.bind(str(path))
    ctrl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ctrl.bind(str(path) + ".ctrl")
    try:
        assert path.exists()
        with pytest.raises(OSError):
            swtpm_mod.probe_ready(path)
    finally:
        bound.close()
        ctrl.close()


def test_probe_refuses_a_socket_that_never_answers(tmp_path, monkeypatch):
    path = tmp_path / "tpm.sock"
    ctrl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ctrl.bind(str(path) + ".ctrl")
    ctrl.listen(1)
    # The probe lives with the demo's swtpm code, which both share.
    monkeypatch.setattr(demo_swtpm, "_PROBE_TIMEOUT", 0.2)
    try:
        # Connecting succeeds (the backlog) but nobody answers.
        with pytest.raises(OSError):
            swtpm_mod.probe_ready(path)
    finally:
        ctrl.close()


def test_started_swtpm_serves_at_once_through_the_tcti(swtpm_factory):  # noqa: F811
    tpm = swtpm_factory.new()
    for _ in range(5):
        with TPMDevice(tpm.tcti) as dev:
            assert len(dev.pcr_read({"sha256": [0]})["sha256"][0]) == 32
        tpm.restart()
        with TPMDevice(tpm.tcti) as dev:
            assert len(dev.pcr_read({"sha256": [0]})["sha256"][0]) == 32


def test_failed_start_reports_the_swtpm_log(swtpm_factory, tmp_path):  # noqa: F811
    tpm = swtpm_mod.Swtpm(tmp_path / "broken")
    tpm.dir.mkdir()
    # No state directory: swtpm exits at once and says why in its log.
    tpm.state = tmp_path / "broken" / "missing" / "state"
    with pytest.raises(RuntimeError) as info:
        tpm.start()
    assert "swtpm exited" in str(info.value)
    assert str(tpm.log_path) in str(info.value)
    tpm.cleanup()
