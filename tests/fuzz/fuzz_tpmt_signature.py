"""Fuzz the TPMT_SIGNATURE parser and signature checking with real AKs."""

import atheris

with atheris.instrument_imports():
    from acaas_nova.attestation import quote
    from acaas_nova.attestation import tpm_structs

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa

from acaas_nova.attestation import tpm_structs as ts
from acaas_nova.evidence import tpm_build
from acaas_nova.exception import ACaaSException
from tests.fuzz import harness

KEYS = [
    quote.AttestationKey.from_tpm2b_public(
        tpm_build.tpm2b_public(
            ec.generate_private_key(ec.SECP256R1()).public_key(),
            scheme=ts.ALG_ECDSA,
        )
    ),
    quote.AttestationKey.from_tpm2b_public(
        tpm_build.tpm2b_public(
            rsa.generate_private_key(65537, 2048).public_key(),
            scheme=ts.ALG_NULL,
        )
    ),
]


def one_input(data: bytes) -> None:
    signature = tpm_structs.parse_signature(data)
    for key in KEYS:
        try:
            quote.verify_signature(key, b"message", signature)
        except ACaaSException:
            pass


if __name__ == "__main__":
    harness.main(one_input)
