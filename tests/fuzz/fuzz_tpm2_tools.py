"""Fuzz the tpm2-tools PCR output reader (serialized, values, text)."""

import atheris

with atheris.instrument_imports():
    from acaas_nova.attestation import tpm2_tools

from acaas_nova.exception import ACaaSException
from tests.fuzz import harness

SELECTION = {"sha1": [0, 3], "sha256": list(range(11))}


def one_input(data: bytes) -> None:
    for selection in (None, SELECTION):
        try:
            tpm2_tools.load_pcrs(data, selection)
        except ACaaSException:
            pass


if __name__ == "__main__":
    harness.main(one_input)
