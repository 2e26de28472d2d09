"""EK certificate chains from software keys, for tests, fuzz seeds and
benchmarks.

:class:`CertificateAuthority` issues CA and EK certificates shaped like
the TCG EK Credential Profile (TCG EK extended key usage, keyEncipherment
or keyAgreement, no CA flag) and, through keyword arguments, every
deviation the verifier must refuse: expired, not yet valid, a CA flag, no
EK usage, an unknown critical extension, an issuer without keyCertSign.
:func:`ek_public` is the TPM2B_PUBLIC of a key under a TCG default EK
template.  Pure: standard library and ``cryptography`` only.
"""

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from acaas_nova.attestation import ek_template
from acaas_nova.attestation import tpm_structs as ts
from acaas_nova.evidence import tpm_build

TCG_EK_OID = x509.ObjectIdentifier("2.23.133.8.1")
#: An extension OID no verifier knows (a private arc).
UNKNOWN_OID = x509.ObjectIdentifier("1.3.6.1.4.1.55555.1.1")
DAY = datetime.timedelta(days=1)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _usage(**set_bits) -> x509.KeyUsage:
    bits = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
        ),
        False,
    )
    bits.update(set_bits)
    return x509.KeyUsage(**bits, encipher_only=False, decipher_only=False)


def pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


class CertificateAuthority:
    """A CA key and certificate (self-signed, or issued by ``parent``)."""

    def __init__(
        self,
        name: str = "ACaaS test EK root",
        parent: "CertificateAuthority | None" = None,
        now: datetime.datetime | None = None,
        key_cert_sign: bool = True,
        ca: bool = True,
        path_length: int | None = None,
    ) -> None:
        self.now = now or datetime.datetime.now(datetime.UTC)
        self.name = name
        self.key = ec.generate_private_key(ec.SECP256R1())
        issuer = parent or self
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(issuer.name))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - DAY)
            .not_valid_after(self.now + 3650 * DAY)
            .add_extension(
                x509.BasicConstraints(ca=ca, path_length=path_length), True
            )
            .add_extension(
                _usage(key_cert_sign=key_cert_sign, crl_sign=True), True
            )
        )
        signer = parent.key if parent is not None else self.key
        self.cert = builder.sign(signer, hashes.SHA256())

    def intermediate(self, name: str, **kw) -> "CertificateAuthority":
        return CertificateAuthority(name, parent=self, now=self.now, **kw)

    def ek_certificate(
        self,
        key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
        *,
        eku: list | None = None,
        usage: x509.KeyUsage | None | bool = True,
        ca: bool = False,
        start: datetime.datetime | None = None,
        end: datetime.datetime | None = None,
        critical_unknown: bool = False,
        issuer_key=None,
    ) -> x509.Certificate:
        """An EK certificate; defaults follow the TCG EK profile."""
        if eku is None:
            eku = [TCG_EK_OID]
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(_name(self.name))
            .public_key(key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start or self.now - DAY)
            .not_valid_after(end or self.now + 3650 * DAY)
            .add_extension(
                x509.BasicConstraints(ca=ca, path_length=None), True
            )
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DirectoryName(_name("id:414352"))]
                ),
                True,
            )
        )
        if eku:
            builder = builder.add_extension(x509.ExtendedKeyUsage(eku), False)
        if usage is True:
            usage = (
                _usage(key_encipherment=True)
                if isinstance(key, rsa.RSAPublicKey)
                else _usage(key_agreement=True)
            )
        if usage:
            builder = builder.add_extension(usage, True)
        if critical_unknown:
            builder = builder.add_extension(
                x509.UnrecognizedExtension(UNKNOWN_OID, b"\x05\x00"), True
            )
        return builder.sign(issuer_key or self.key, hashes.SHA256())

    def crl(
        self, revoked: list[x509.Certificate]
    ) -> x509.CertificateRevocationList:
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.cert.subject)
            .last_update(self.now - DAY)
            .next_update(self.now + 30 * DAY)
        )
        for cert in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(cert.serial_number)
                .revocation_date(self.now - DAY)
                .build()
            )
        return builder.sign(self.key, hashes.SHA256())


def ek_public(
    key, template: str = "L-1", exponent: int | None = None
) -> bytes:
    """TPM2B_PUBLIC of ``key`` under a TCG default EK template.

    ``exponent`` overrides the RSA exponent field (the template's is 0).
    """
    spec = ek_template.TEMPLATES[template]
    blob = tpm_build.tpmt_public(
        key,
        scheme=ts.ALG_NULL,
        attributes=spec.attributes,
        name_alg=spec.name_alg,
        auth_policy=spec.auth_policy,
        symmetric=(ts.ALG_AES, spec.sym_bits, ts.ALG_CFB),
    )
    if exponent is not None and isinstance(key, rsa.RSAPublicKey):
        # The exponent sits just before the modulus' TPM2B.
        size = key.key_size // 8
        at = len(blob) - size - 2 - 4
        blob = blob[:at] + exponent.to_bytes(4, "big") + blob[at + 4 :]
    return tpm_build.tpm2b(blob)
