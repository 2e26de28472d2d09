"""Fuzz EK certificate loading and path validation against a fixed CA."""

import datetime

import atheris

with atheris.instrument_imports():
    from acaas_nova.attestation import ekcert

from cryptography.hazmat.primitives.asymmetric import rsa

from acaas_nova.attestation import tpm_public
from acaas_nova.evidence import ek_build
from acaas_nova.exception import ACaaSException
from tests.fuzz import harness

NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)
ROOT = ek_build.CertificateAuthority("EK root", now=NOW)
INTER = ROOT.intermediate("EK issuing CA")
EK = tpm_public.parse_public(
    ek_build.ek_public(rsa.generate_private_key(65537, 2048).public_key())
)


def one_input(data: bytes) -> None:
    cert = ekcert.load_certificate(data)
    try:
        ekcert.check_ek_matches(cert, EK)
    except ACaaSException:
        pass
    ekcert.verify_chain(cert, [ROOT.cert], [INTER.cert, cert], NOW)


if __name__ == "__main__":
    harness.main(one_input)
