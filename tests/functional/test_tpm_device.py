"""The TPM access layer against a real swtpm: PCRs, NV, stale objects."""

import hashlib

import pytest

from acaas_nova.attestation import errors
from acaas_nova.tpm import keys
from acaas_nova.tpm.device import TPMDevice
from tests.functional.swtpm import swtpm  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_ca  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_ca_template  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_factory  # noqa: F401 (pytest fixtures)


def test_pcr_read_more_than_eight_and_extend(swtpm):  # noqa: F811
    with TPMDevice(swtpm.tcti) as dev:
        before = dev.pcr_read({"sha256": range(24), "sha1": [10]})
        assert sorted(before["sha256"]) == list(range(24))
        digest = hashlib.sha256(b"x").digest()
        dev.pcr_extend(10, {"sha256": digest})
        after = dev.pcr_read({"sha256": [10], "sha1": [10]})
    expected = hashlib.sha256(before["sha256"][10] + digest).digest()
    assert after["sha256"][10] == expected
    # Only the sha256 bank was extended.
    assert after["sha1"][10] == before["sha1"][10]


def test_nv_read_ek_certificate_and_missing_index(swtpm):  # noqa: F811
    with TPMDevice(swtpm.tcti) as dev:
        cert = dev.nv_read(keys.EK_KINDS["rsa2048"][1])
        assert cert[:2] == b"\x30\x82"
        with pytest.raises(errors.TPMError, match="NV read 0x01c00003"):
            dev.nv_read(0x01C00003)


def test_flush_objects_left_by_a_crashed_client(swtpm):  # noqa: F811
    with TPMDevice(swtpm.tcti) as dev:
        tss = dev.tss
        template = tss.TPM2B_PUBLIC.parse("ecc256")
        dev.esapi.create_primary(None, template, tss.ESYS_TR.OWNER)
        # Without a resource manager the object outlives the connection.
    with TPMDevice(swtpm.tcti) as dev:
        assert len(dev.handles(dev.tss.TPM2_HT.TRANSIENT)) == 1
        assert dev.flush_transient_objects() == 1
        assert dev.handles(dev.tss.TPM2_HT.TRANSIENT) == []


def test_unreachable_tpm(tmp_path):
    with pytest.raises(errors.TPMError, match="open swtpm"):
        TPMDevice("swtpm:path=%s" % (tmp_path / "none.sock"))


def test_unknown_kinds(swtpm):  # noqa: F811
    with TPMDevice(swtpm.tcti) as dev:
        with pytest.raises(errors.UnsupportedAlgorithm):
            keys.create_ak(dev, "rsa1024")
        with pytest.raises(errors.UnsupportedAlgorithm):
            keys.read_ek(dev, "ecc521")
