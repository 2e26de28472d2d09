"""Fuzz the TPMS_ATTEST parser and the quote checks after the signature."""

import atheris

with atheris.instrument_imports():
    from acaas_nova.attestation import quote
    from acaas_nova.attestation import tpm_structs

from tests.fuzz import harness


def one_input(data: bytes) -> None:
    attest = tpm_structs.parse_attest(data)
    quote.check_clock(attest.clock_info, attest.clock_info)


if __name__ == "__main__":
    harness.main(one_input)
