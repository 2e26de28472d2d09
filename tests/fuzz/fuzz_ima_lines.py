"""Fuzz the IMA measurement list parser, replay and linter."""

import atheris

with atheris.instrument_imports():
    from acaas_nova.attestation import ima
    from acaas_nova.attestation import ima_replay

from tests.fuzz import harness

QUOTED = bytes(32)


def one_input(data: bytes) -> None:
    entries = ima.parse(data, check=True)
    ima.lint(data)
    ima.parse(data, check=False)
    for entry in entries[:4]:
        ima_replay.extend_value(entry, "sha256")
    if entries:
        # Replaying to a PCR value it cannot reach must be a refusal.
        ima_replay.verify(data, QUOTED)


if __name__ == "__main__":
    harness.main(one_input)
