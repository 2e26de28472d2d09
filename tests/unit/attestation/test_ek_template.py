"""EK public areas must follow a TCG default EK template, and one EK has
one identity however its public area is encoded."""

import datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa

from acaas_nova.attestation import ek_template
from acaas_nova.attestation import errors
from acaas_nova.attestation import registration
from acaas_nova.attestation import tpm_public
from acaas_nova.attestation import tpm_structs as ts
from acaas_nova.evidence import ek_build
from acaas_nova.evidence import tpm_build

NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)
RSA = rsa.generate_private_key(65537, 2048)
RSA3072 = rsa.generate_private_key(65537, 3072)
P256 = ec.generate_private_key(ec.SECP256R1())
P384 = ec.generate_private_key(ec.SECP384R1())
ROOT = ek_build.CertificateAuthority("EK root", now=NOW)
AK = tpm_build.tpm2b_public(
    ec.generate_private_key(ec.SECP256R1()).public_key(),
    scheme=ts.ALG_ECDSA,
)


@pytest.mark.parametrize(
    "key,template",
    [
        (RSA, "L-1"),
        (P256, "L-2"),
        (RSA, "H-1"),
        (P256, "H-2"),
        (P384, "H-3"),
        (RSA3072, "H-6"),
    ],
)
def test_default_templates_are_recognised(key, template):
    ek = tpm_public.parse_public(
        ek_build.ek_public(key.public_key(), template)
    )
    assert ek_template.check(ek) == template


def _hand_built(key=RSA, **kw):
    args = dict(
        scheme=ts.ALG_NULL,
        attributes=ek_template.LOW_ATTRIBUTES,
        auth_policy=ek_template.POLICY_A_SHA256,
        symmetric=(ts.ALG_AES, 128, ts.ALG_CFB),
    )
    args.update(kw)
    return tpm_public.parse_public(
        tpm_build.tpm2b_public(key.public_key(), **args)
    )


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(auth_policy=b""), "match no TCG default"),
        (dict(auth_policy=bytes(32)), "match no TCG default"),
        (
            dict(attributes=ek_template.LOW_ATTRIBUTES | ts.OBJ_SIGN),
            "restricted decryption-only",
        ),
        (
            dict(attributes=ek_template.LOW_ATTRIBUTES & ~ts.OBJ_RESTRICTED),
            "restricted decryption-only",
        ),
        (
            dict(attributes=ek_template.LOW_ATTRIBUTES & ~ts.OBJ_FIXED_TPM),
            "match no TCG default",
        ),
        (
            dict(symmetric=(ts.ALG_AES, 256, ts.ALG_CFB)),
            "match no TCG default",
        ),
        (dict(scheme=ts.ALG_RSASSA), "signing scheme"),
        (dict(name_alg="sha384"), "match no TCG default"),
    ],
)
def test_non_template_ek_public_areas_are_refused(kwargs, match):
    assert ek_template.check(_hand_built()) == "L-1"
    with pytest.raises(errors.EKTemplateMismatch, match=match):
        ek_template.check(_hand_built(**kwargs))


def test_rsa_exponent_written_out_is_not_the_template():
    ek = tpm_public.parse_public(
        ek_build.ek_public(RSA.public_key(), exponent=65537)
    )
    with pytest.raises(
        errors.EKTemplateMismatch, match="exponent field is 65537"
    ):
        ek_template.check(ek)


def test_one_ek_one_identity_whatever_its_encoding():
    canonical = ek_build.ek_public(RSA.public_key())
    explicit = ek_build.ek_public(RSA.public_key(), exponent=65537)
    assert canonical != explicit
    # The TPM names differ ...
    assert (
        tpm_public.parse_public(canonical).name
        != tpm_public.parse_public(explicit).name
    )
    # ... the identity does not.
    assert registration.ek_fingerprint(
        canonical
    ) == registration.ek_fingerprint(explicit)
    assert registration.compute_cid(
        tpm_public.parse_public(canonical)
    ) == registration.compute_cid(tpm_public.parse_public(explicit))
    other = ek_build.ek_public(
        rsa.generate_private_key(65537, 2048).public_key()
    )
    assert registration.ek_fingerprint(other) != registration.ek_fingerprint(
        canonical
    )


def test_registration_refuses_the_re_encoded_ek():
    cert = ROOT.ek_certificate(RSA.public_key())
    bundle = ek_build.pem(ROOT.cert)
    der = ek_build.der(cert)
    good = registration.begin(
        der, ek_build.ek_public(RSA.public_key()), AK, bundle, now=NOW
    )
    assert good.cid
    with pytest.raises(errors.EKTemplateMismatch):
        registration.begin(
            der,
            ek_build.ek_public(RSA.public_key(), exponent=65537),
            AK,
            bundle,
            now=NOW,
        )


@pytest.mark.parametrize(
    "clear,missing",
    [
        (ts.OBJ_FIXED_TPM, "fixedTPM"),
        (ts.OBJ_FIXED_PARENT, "fixedParent"),
        (ts.OBJ_RESTRICTED, "restricted"),
        (ts.OBJ_SIGN, "sign"),
        (ts.OBJ_SENSITIVE_DATA_ORIGIN, "sensitiveDataOrigin"),
    ],
)
def test_ak_attributes_a_tpm_would_not_give_a_restricted_signing_key(
    clear, missing
):
    cert = ROOT.ek_certificate(RSA.public_key())
    ak = tpm_build.tpm2b_public(
        ec.generate_private_key(ec.SECP256R1()).public_key(),
        scheme=ts.ALG_ECDSA,
        attributes=tpm_build.AK_ATTRIBUTES & ~clear,
    )
    with pytest.raises(errors.AKAttributesInvalid, match="lacks %s" % missing):
        registration.begin(
            ek_build.der(cert),
            ek_build.ek_public(RSA.public_key()),
            ak,
            ek_build.pem(ROOT.cert),
            now=NOW,
        )
