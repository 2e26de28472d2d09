"""Shared start-up of the atheris harnesses in this folder.

Each ``fuzz_<parser>.py`` defines ``one_input(data: bytes)`` calling one
parser the way a message would reach it, and ends with
``harness.main(one_input)``.  An exception derived from the project's
:class:`~acaas_nova.exception.ACaaSException` is a refusal, the expected
outcome for bad input; any other exception is a finding and stops the
fuzzer with the input saved (``-artifact_prefix``).

Run one harness (libFuzzer flags; the first folder receives new inputs,
the others are read)::

    python -m tests.fuzz.fuzz_ima_lines -runs=1000000 \\
        /tmp/corpus tests/fuzz/corpus/ima_lines

``tests/fuzz/test_fuzz.py`` runs each for a few seconds in the suite.
"""

import pathlib
import sys

import atheris

CORPUS = pathlib.Path(__file__).parent / "corpus"


def guarded(one_input):
    """one_input, with the project's own refusals treated as success."""
    from acaas_nova.exception import ACaaSException

    def run(data: bytes) -> None:
        try:
            one_input(data)
        except ACaaSException as exc:
            # A refusal must still be a clean one-line message.
            str(exc)

    return run


def main(one_input) -> None:
    atheris.Setup(sys.argv, guarded(one_input))
    atheris.Fuzz()
