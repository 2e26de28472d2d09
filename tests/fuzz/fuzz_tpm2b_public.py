"""Fuzz TPM2B_PUBLIC parsing, key conversion, EK template and identity,
and AK loading (TPM2B_PUBLIC or PEM)."""

import atheris

with atheris.instrument_imports():
    from acaas_nova.attestation import ek_template
    from acaas_nova.attestation import quote
    from acaas_nova.attestation import registration
    from acaas_nova.attestation import tpm_public

from acaas_nova.exception import ACaaSException
from tests.fuzz import harness


def one_input(data: bytes) -> None:
    try:
        quote.AttestationKey.load(data)
    except ACaaSException:
        pass
    public = tpm_public.parse_public(data)
    public.name  # noqa: B018 - computing it must not fail
    ek_template.match(public)
    try:
        registration.check_ak_public(public)
    except ACaaSException:
        pass
    registration.ek_fingerprint(public)


if __name__ == "__main__":
    harness.main(one_input)
