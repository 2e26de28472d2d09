"""Sealing to PCRs 0-7 on a real swtpm."""

import hashlib

import pytest

from acaas_nova.attestation import errors
from acaas_nova.tpm import seal
from acaas_nova.tpm.device import TPMDevice
from tests.functional.swtpm import swtpm  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_ca  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_ca_template  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_factory  # noqa: F401 (pytest fixtures)

SECRET = b"channel key " + bytes(range(20))


def _extend(dev, index, data):
    dev.pcr_extend(
        index,
        {
            "sha1": hashlib.sha1(data).digest(),
            "sha256": hashlib.sha256(data).digest(),
        },
    )


def test_unseal_while_platform_unchanged(swtpm):  # noqa: F811
    with TPMDevice(swtpm.tcti) as dev:
        _extend(dev, 0, b"firmware")
        sealed = seal.seal(dev, SECRET)
        # PCRs outside 0-7 (IMA's PCR 10) may change freely.
        _extend(dev, 10, b"a file")
        assert seal.unseal(dev, sealed) == SECRET
        assert seal.unseal(dev, sealed) == SECRET
        assert dev.handles(dev.tss.TPM2_HT.TRANSIENT) == []
    # Across a reboot that measures the same boot chain again.
    swtpm.restart()
    with TPMDevice(swtpm.tcti) as dev:
        _extend(dev, 0, b"firmware")
        assert seal.unseal(dev, sealed) == SECRET


@pytest.mark.parametrize("index", [0, 7])
def test_unseal_fails_after_boot_pcr_change(swtpm, index):  # noqa: F811
    with TPMDevice(swtpm.tcti) as dev:
        sealed = seal.seal(dev, SECRET)
        _extend(dev, index, b"other bootloader")
        with pytest.raises(errors.PlatformChanged):
            seal.unseal(dev, sealed)
        assert dev.handles(dev.tss.TPM2_HT.TRANSIENT) == []


def test_unseal_fails_after_reboot_into_other_boot_chain(swtpm):  # noqa: F811
    with TPMDevice(swtpm.tcti) as dev:
        _extend(dev, 4, b"kernel 1")
        sealed = seal.seal(dev, SECRET)
    swtpm.restart()
    with TPMDevice(swtpm.tcti) as dev:
        _extend(dev, 4, b"kernel 2")
        with pytest.raises(errors.PlatformChanged):
            seal.unseal(dev, sealed)


def test_secret_size_checked(swtpm):  # noqa: F811
    with TPMDevice(swtpm.tcti) as dev:
        with pytest.raises(errors.TPMError, match="1-128 bytes"):
            seal.seal(dev, b"")
