"""keylime's own verification functions, fed our benchmark's inputs.

The baseline of verify_bench.py: ``keylime.tpm.tpm_util.checkquote`` for
quotes and ``keylime.ima.ima.process_measurement_list`` with a runtime
policy allowing every measured file.  keylime is installed without its
dependencies into .venv-bench (see benchmarks/requirements.txt) so the main
virtualenv's pins stay untouched.  Each ``*_runner`` returns a callable
doing one pass over the inputs, for the caller to time.
"""

import logging
import struct
import sys
import types
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from acaas_nova.attestation import tpm_structs as ts
from acaas_nova.evidence import ima_build

REPO = Path(__file__).resolve().parents[1]


def load():
    """Import keylime from .venv-bench; None, or why it is unavailable."""
    sys.path.append(str(REPO / ".venv-bench"))
    try:
        import gpg  # noqa: F401
    except ImportError:
        # keylime.signing imports the GPGME bindings at import time; no
        # function used here calls them.
        sys.modules["gpg"] = types.ModuleType("gpg")
    logging.getLogger("keylime").setLevel(logging.CRITICAL)
    try:
        from keylime.ima import ima  # noqa: F401
        from keylime.tpm import tpm_util  # noqa: F401
    except ImportError as exc:
        return "not installed (%s); see benchmarks/requirements.txt" % exc
    return None


def tools_pcrblob(pcrs):
    """sha256 PCR values in the tpm2-tools layout checkquote reads."""
    indices = sorted(pcrs["sha256"])
    bits = sum(1 << i for i in indices)
    blob = struct.pack("<I", 1)
    blob += struct.pack("<HB", ts.ALG_SHA256, 3) + bits.to_bytes(3, "little")
    blob += b"\0\0" + b"\0" * 8 * 15
    chunks = [indices[i : i + 8] for i in range(0, len(indices), 8)]
    blob += struct.pack("<I", len(chunks))
    for chunk in chunks:
        blob += struct.pack("<I", len(chunk))
        for j in range(8):
            value = pcrs["sha256"][chunk[j]] if j < len(chunk) else b""
            blob += struct.pack("<H", len(value)) + value.ljust(64, b"\0")
    return blob


def quote_runner(public_key, items):
    """One pass of checkquote over (nonce, attest, sig, pcrs) items."""
    from keylime.tpm import tpm_util

    pem = public_key.public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    prepared = [
        (nonce, attest, sig, tools_pcrblob(pcrs))
        for nonce, attest, sig, pcrs in items
    ]

    def run():
        for nonce, attest, sig, blob in prepared:
            tpm_util.checkquote(pem, nonce, sig, attest, blob, "sha256")

    return run


def policy(log):
    """A keylime runtime policy allowing every entry of the log."""
    from keylime.ima import ima

    out = ima.empty_policy()
    for line in log.lines:
        fields = line.split(" ", 4)
        digest = fields[3].split(":", 1)[1]
        out["digests"].setdefault(fields[4], []).append(digest)
    return out


def ima_full_runner(log):
    """Verify the whole log against the quoted PCR 10 and the policy."""
    from keylime.common.algorithms import Hash
    from keylime.ima import ima

    allow = policy(log)
    lines = log.text().splitlines()
    pcr10 = log.pcr10["sha256"].hex()

    def run():
        _hash, failure = ima.process_measurement_list(
            None, lines, allow, pcr10, hash_alg=Hash.SHA256
        )
        assert not failure.get_event_ids(), failure.get_event_ids()

    return run


def ima_incremental_runner(log, base):
    """Verify the entries after ``base``, keylime's incremental way."""
    from keylime.agentstates import AgentAttestState
    from keylime.common.algorithms import Hash
    from keylime.ima import ima

    allow = policy(log)
    pcr_base = ima_build.pcrs_after(("sha256",), log.extends, base)
    state = AgentAttestState("bench")
    new_lines = log.text(base).splitlines()
    final = log.pcr10["sha256"].hex()

    def run():
        # Restore the state after entry ``base`` (keylime mutates it).
        state.reset_ima_attestation()
        state.update_ima_attestation(10, pcr_base["sha256"], base)
        _hash, failure = ima.process_measurement_list(
            state, new_lines, allow, final, hash_alg=Hash.SHA256
        )
        assert not failure.get_event_ids(), failure.get_event_ids()

    return run
