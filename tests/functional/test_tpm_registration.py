"""Registration (Protocol 12.1) against real swtpm EKs and certificates."""

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from acaas_nova.attestation import errors
from acaas_nova.attestation import quote as q
from acaas_nova.attestation import registration
from acaas_nova.tpm import keys
from acaas_nova.tpm.device import TPMDevice
from tests.functional.swtpm import SwtpmFactory  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import other_swtpm_ca_template  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_ca  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_ca_template  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_factory  # noqa: F401 (pytest fixtures)


@pytest.fixture(scope="module")
def dcs_ca():
    """The DC-S CA key and self-signed certificate that sign AK certs."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "DC-S CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


@pytest.fixture
def device(swtpm):  # noqa: F811
    with TPMDevice(swtpm.tcti) as dev:
        yield dev


def _register(dev, ca_bundle, dcs_ca, ek_kind="rsa2048", ak_kind="rsa2048"):
    ek = keys.read_ek(dev, ek_kind)
    ak = keys.create_ak(dev, ak_kind)
    challenge = registration.begin(
        ek.certificate, ek.public, ak.public, ca_bundle
    )
    answer = keys.activate_credential(
        dev,
        ak,
        challenge.credential_blob,
        challenge.encrypted_secret,
        ek_kind=ek_kind,
    )
    cert = registration.finish(challenge, answer, *dcs_ca)
    return ek, ak, challenge, cert


@pytest.mark.parametrize(
    "ek_kind,ak_kind", [("rsa2048", "rsa2048"), ("ecc384", "ecc256")]
)
def test_register_and_quote(device, swtpm_ca, dcs_ca, ek_kind, ak_kind):  # noqa: F811
    _ek, ak, challenge, pem = _register(
        device, swtpm_ca.bundle_pem, dcs_ca, ek_kind, ak_kind
    )
    cert = registration.verify_ak_certificate(pem, dcs_ca[1])
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == challenge.cid
    key = q.AttestationKey.from_tpm2b_public(ak.public)
    assert cert.public_key() == key.key
    assert challenge.ak_name == ak.name
    evidence = keys.quote(device, ak, b"nonce", q.DEFAULT_SELECTION)
    q.verify_quote(
        key, evidence.attest, evidence.signature, evidence.pcrs, b"nonce"
    )


def test_cid_is_stable_per_ek_and_unique(swtpm_factory, swtpm_ca, dcs_ca):  # noqa: F811
    cids = []
    for tpm in (swtpm_factory.new(unique=True), swtpm_factory.new()):
        with TPMDevice(tpm.tcti) as dev:
            cids.append(_register(dev, swtpm_ca.bundle_pem, dcs_ca)[2].cid)
            cids.append(_register(dev, swtpm_ca.bundle_pem, dcs_ca)[2].cid)
    assert cids[0] == cids[1] and cids[2] == cids[3]
    assert cids[0] != cids[2]


def test_ek_certificate_from_another_ca(
    tmp_path,
    swtpm_ca,  # noqa: F811
    other_swtpm_ca_template,  # noqa: F811
):
    ca, template = other_swtpm_ca_template
    factory = SwtpmFactory(tmp_path / "other", ca, template)
    try:
        with TPMDevice(factory.new().tcti) as dev:
            ek = keys.read_ek(dev)
            ak = keys.create_ak(dev)
        # Both CAs are named CN=swtpm-localca: only the signature differs.
        with pytest.raises(errors.EKCertificateInvalid, match="no trusted"):
            registration.begin(
                ek.certificate, ek.public, ak.public, swtpm_ca.bundle_pem
            )
        # ... and its own bundle accepts it.
        registration.begin(ek.certificate, ek.public, ak.public, ca.bundle_pem)
    finally:
        factory.stop_all()


def test_ek_public_not_matching_certificate(device, swtpm_ca):  # noqa: F811
    rsa_ek = keys.read_ek(device, "rsa2048")
    ecc_ek = keys.read_ek(device, "ecc384")
    ak = keys.create_ak(device)
    with pytest.raises(errors.EKCertificateInvalid, match="does not match"):
        registration.begin(
            rsa_ek.certificate, ecc_ek.public, ak.public, swtpm_ca.bundle_pem
        )


def test_credential_made_for_another_ak(device, swtpm_ca):  # noqa: F811
    ek = keys.read_ek(device)
    ak = keys.create_ak(device)
    other = keys.create_ak(device)
    challenge = registration.begin(
        ek.certificate, ek.public, other.public, swtpm_ca.bundle_pem
    )
    with pytest.raises(errors.CredentialError, match="TPM refused"):
        keys.activate_credential(
            device, ak, challenge.credential_blob, challenge.encrypted_secret
        )


def test_wrong_answer_rejected(device, swtpm_ca, dcs_ca):  # noqa: F811
    ek = keys.read_ek(device)
    ak = keys.create_ak(device)
    challenge = registration.begin(
        ek.certificate, ek.public, ak.public, swtpm_ca.bundle_pem
    )
    with pytest.raises(errors.CredentialError, match="not the credential"):
        registration.finish(challenge, b"guessed" * 4, *dcs_ca)


def test_credential_for_uncertified_ecc256_ek(device):
    """MakeCredential by ECDH + KDFe, checked by the TPM (no cert needed)."""
    from acaas_nova.attestation import credential
    from acaas_nova.attestation import tpm_public

    ek = keys.read_ek(device, "ecc256")
    assert ek.certificate is None  # swtpm 0.7.1 certifies no P-256 EK
    ak = keys.create_ak(device)
    blob, secret = credential.make_credential(
        tpm_public.parse_public(ek.public), ak.name, b"s" * 32
    )
    out = keys.activate_credential(device, ak, blob, secret, ek_kind="ecc256")
    assert out == b"s" * 32
