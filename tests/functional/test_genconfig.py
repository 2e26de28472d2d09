"""oslo-config-generator prints every acaas-nova option group."""

import os
import subprocess
import sys

BIN = os.path.dirname(sys.executable)


def test_generator_prints_our_groups():
    out = subprocess.run(
        [
            os.path.join(BIN, "oslo-config-generator"),
            "--namespace",
            "acaas_nova",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for group in (
        "[acaas]",
        "[acaas_database]",
        "[dcs]",
        "[dcc]",
        "[nova]",
        "[placement]",
        "[coordination]",
    ):
        assert group in out
    assert "#require_attestation = true" in out
    assert "#state_path = /var/lib/acaas" in out
