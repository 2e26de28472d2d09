"""A quote made with tpm2-tools on a real swtpm verifies as the tools
wrote it: AK as PEM, TPMS_ATTEST, TPMT_SIGNATURE, the serialized PCR
file and a hex nonce -- no hand conversion."""

import os
import subprocess

import pytest

from acaas_nova.attestation import errors
from acaas_nova.attestation import quote
from tests.functional import realparts
from tests.functional.swtpm import swtpm  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_ca  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_ca_template  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_factory  # noqa: F401 (pytest fixtures)

SELECTION = "sha256:0,1,2,3,4,5,6,7,8,9,10"
NONCE = "00112233445566778899aabbccddeeff"


def _tool(name, *args, env, cwd):
    proc = subprocess.run(
        [realparts.require_program(name), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, "%s failed: %s" % (name, proc.stderr[-2000:])
    return proc.stdout


@pytest.mark.parametrize("ak_alg", ["ecc", "rsa"])
def test_tpm2_quote_outputs_verify_as_written(swtpm, tmp_path, ak_alg):  # noqa: F811
    env = dict(os.environ, TPM2TOOLS_TCTI=swtpm.tcti)
    run = lambda name, *a: _tool(name, *a, env=env, cwd=tmp_path)  # noqa: E731
    run("tpm2_pcrextend", "3:sha256=" + "ab" * 32)
    run("tpm2_createek", "-c", "ek.ctx", "-G", "rsa", "-u", "ek.pub")
    scheme = "ecdsa" if ak_alg == "ecc" else "rsassa"
    run(
        "tpm2_createak",
        "-C",
        "ek.ctx",
        "-c",
        "ak.ctx",
        "-G",
        ak_alg,
        "-g",
        "sha256",
        "-s",
        scheme,
        "-u",
        "ak.pem",
        "-f",
        "pem",
    )
    run("tpm2_flushcontext", "-t")
    run(
        "tpm2_quote",
        "-c",
        "ak.ctx",
        "-l",
        SELECTION,
        "-q",
        NONCE,
        "-m",
        "quote.msg",
        "-s",
        "quote.sig",
        "-o",
        "quote.pcrs",
        "-g",
        "sha256",
    )
    printed = run("tpm2_pcrread", SELECTION)
    files = {
        n: (tmp_path / n).read_bytes()
        for n in ("ak.pem", "quote.msg", "quote.sig", "quote.pcrs")
    }
    result = quote.verify_quote(
        files["ak.pem"],
        files["quote.msg"],
        files["quote.sig"],
        files["quote.pcrs"],
        NONCE,
        {"sha256": range(11)},
    )
    # The printed tpm2_pcrread output gives the same values.
    again = quote.verify_quote(
        files["ak.pem"],
        files["quote.msg"],
        files["quote.sig"],
        printed,
        bytes.fromhex(NONCE),
        {"sha256": range(11)},
    )
    assert again.pcrs == result.pcrs
    assert result.pcrs["sha256"][3] != bytes(32)
    tampered = bytearray(files["quote.pcrs"])
    tampered[-1] ^= 1  # padding of the last digest list: still same values
    tampered[140 + 2 + 3 * 66] ^= 1  # first byte of PCR 3's digest
    with pytest.raises(errors.PCRDigestMismatch):
        quote.verify_quote(
            files["ak.pem"],
            files["quote.msg"],
            files["quote.sig"],
            bytes(tampered),
            NONCE,
            {"sha256": range(11)},
        )
