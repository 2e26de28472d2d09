"""Quotes from a real swtpm, verified by the pure quote verifier."""

import dataclasses
import hashlib
import os

import pytest

from acaas_nova.attestation import errors
from acaas_nova.attestation import quote as q
from acaas_nova.tpm import keys
from acaas_nova.tpm.device import TPMDevice
from tests.functional.swtpm import swtpm  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_ca  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_ca_template  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_factory  # noqa: F401 (pytest fixtures)

SELECTION = {"sha256": range(11), "sha1": range(11)}


@pytest.fixture
def device(swtpm):  # noqa: F811
    with TPMDevice(swtpm.tcti) as dev:
        yield dev


@pytest.fixture
def rsa_ak(device):
    return keys.create_ak(device, "rsa2048")


def _quote(device, ak, nonce=None, selection=SELECTION):
    nonce = nonce or os.urandom(32)
    return nonce, keys.quote(device, ak, nonce, selection)


def _verify(ak, evidence, nonce, selection=SELECTION, previous=None):
    key = q.AttestationKey.from_tpm2b_public(ak.public)
    return q.verify_quote(
        key,
        evidence.attest,
        evidence.signature,
        evidence.pcrs,
        nonce,
        selection,
        previous,
    )


@pytest.mark.parametrize("kind", sorted(keys.AK_KINDS))
def test_good_quote_verifies(device, kind):
    ak = keys.create_ak(device, kind)
    device.pcr_extend(
        10,
        {
            "sha1": hashlib.sha1(b"file").digest(),
            "sha256": hashlib.sha256(b"file").digest(),
        },
    )
    nonce, evidence = _quote(device, ak)
    result = _verify(ak, evidence, nonce)
    assert result.pcrs == device.pcr_read(SELECTION)
    assert result.pcrs["sha256"][10] != bytes(32)
    assert not result.reboot
    assert result.hash_name == ("sha384" if kind == "ecc384" else "sha256")
    # No transient object is left in swtpm's three slots.
    assert device.handles(device.tss.TPM2_HT.TRANSIENT) == []


def test_default_selection_sha256_only(device, rsa_ak):
    nonce, evidence = _quote(device, rsa_ak, selection=q.DEFAULT_SELECTION)
    result = _verify(rsa_ak, evidence, nonce, q.DEFAULT_SELECTION)
    assert set(result.pcrs) == {"sha256"}
    assert sorted(result.pcrs["sha256"]) == list(range(11))


def test_wrong_nonce(device, rsa_ak):
    _nonce, evidence = _quote(device, rsa_ak)
    with pytest.raises(errors.NonceMismatch):
        _verify(rsa_ak, evidence, os.urandom(32))


def test_altered_pcr_value(device, rsa_ak):
    nonce, evidence = _quote(device, rsa_ak)
    pcrs = {bank: dict(values) for bank, values in evidence.pcrs.items()}
    pcrs["sha256"][10] = hashlib.sha256(b"forged").digest()
    forged = dataclasses.replace(evidence, pcrs=pcrs)
    with pytest.raises(errors.PCRDigestMismatch):
        _verify(rsa_ak, forged, nonce)


def test_altered_attestation_bytes(device, rsa_ak):
    nonce, evidence = _quote(device, rsa_ak)
    attest = bytearray(evidence.attest)
    attest[-1] ^= 1  # last byte of the PCR digest
    forged = dataclasses.replace(evidence, attest=bytes(attest))
    with pytest.raises(errors.SignatureInvalid):
        _verify(rsa_ak, forged, nonce)


def test_different_ak(device, rsa_ak):
    other = keys.create_ak(device, "rsa2048")
    nonce, evidence = _quote(device, other)
    with pytest.raises(errors.SignatureInvalid):
        _verify(rsa_ak, evidence, nonce)


def test_selection_other_than_asked(device, rsa_ak):
    nonce, evidence = _quote(device, rsa_ak)
    with pytest.raises(errors.PCRSelectionMismatch):
        _verify(rsa_ak, evidence, nonce, q.DEFAULT_SELECTION)


def test_replayed_quote(device, rsa_ak):
    nonce, evidence = _quote(device, rsa_ak)
    first = _verify(rsa_ak, evidence, nonce)
    with pytest.raises(errors.ClockError):
        _verify(rsa_ak, evidence, nonce, previous=first.clock_info)


def test_successive_quotes_advance(device, rsa_ak):
    nonce1, evidence1 = _quote(device, rsa_ak)
    first = _verify(rsa_ak, evidence1, nonce1)
    nonce2, evidence2 = _quote(device, rsa_ak)
    second = _verify(rsa_ak, evidence2, nonce2, previous=first.clock_info)
    assert not second.reboot
    assert second.clock_info.clock > first.clock_info.clock
    # The older quote presented after the newer one was accepted.
    with pytest.raises(errors.ClockError, match="did not advance"):
        _verify(rsa_ak, evidence1, nonce1, previous=second.clock_info)


def test_tpm_reset_reported_and_old_quote_rejected(swtpm, rsa_ak):  # noqa: F811
    with TPMDevice(swtpm.tcti) as dev:
        nonce, old = _quote(dev, rsa_ak)
    before = _verify(rsa_ak, old, nonce)
    swtpm.restart()
    with TPMDevice(swtpm.tcti) as dev:
        nonce2, evidence = _quote(dev, rsa_ak)
    after = _verify(rsa_ak, evidence, nonce2, previous=before.clock_info)
    assert after.reboot
    assert after.clock_info.reset_count > before.clock_info.reset_count
    # PCR 10 starts over after the reset: the caller must replay the log.
    assert after.pcrs["sha256"][10] == bytes(32)
    with pytest.raises(errors.ClockError, match="resetCount went back"):
        _verify(rsa_ak, old, nonce, previous=after.clock_info)
