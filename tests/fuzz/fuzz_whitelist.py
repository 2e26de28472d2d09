"""Fuzz white-list documents: validation, exclusion patterns, evaluation."""

import hashlib

import atheris

with atheris.instrument_imports():
    from acaas_nova.attestation import whitelist
    from acaas_nova.attestation import whitelist_eval

from acaas_nova.attestation import ima
from acaas_nova.evidence import ima_build
from tests.fuzz import harness

_LOG = ima_build.LogBuilder(("sha256",))
_PCRS = {"sha256": {i: hashlib.sha256(b"%d" % i).digest() for i in range(10)}}
_LOG.add_boot_aggregate(_PCRS)
_LOG.add_file("/usr/bin/python3", b"python")
_LOG.add_file("/var/log/x.log", b"log")
_LOG.add("ima-ng", "sha256:" + "00" * 32, "/tmp/v", violation=True)
ENTRIES = ima.parse(_LOG.text())
BOOT = whitelist_eval.BootState(ENTRIES[0].digest, _PCRS)


def one_input(data: bytes) -> None:
    wl = whitelist.load(data)
    whitelist.dump(wl)
    for entry in ENTRIES:
        wl.excluded(entry.path)
    result = whitelist_eval.evaluate([wl], ENTRIES, BOOT)
    result[wl.name].error()


if __name__ == "__main__":
    harness.main(one_input)
