"""Evidence of a devstack node's good state, for its white-list.

Run by devstack/plugin.sh with the Python of nova's environment:

``pcrs --tcti TCTI --output FILE``
    Read PCRs 0-10 of the sha1 and sha256 banks into the JSON file
    ``acaas-manage whitelist generate --pcrs`` takes.
``measure --tcti TCTI --log FILE PATH...``
    For a node backed by swtpm only.  The kernel's IMA extends the
    hardware TPM's PCR 10 (there is none), never swtpm's, so the node's
    measurement list is kept by this tool instead: the first call writes
    boot_aggregate (from swtpm's PCRs 0-9), then each file's entry is
    appended and extended into PCR 10 exactly as the kernel does it (the
    entry first, then the extend).  swtpm starts with clean PCRs, so a new
    list is begun whenever PCR 10 is still zero.
``ek-fingerprint --tcti TCTI [--ek-type KIND]``
    Print the fingerprint of the TPM's EK (SHA-256 of its
    SubjectPublicKeyInfo), for ``acaas-manage host add --ek-fingerprint``:
    DC-S then registers the node only with this TPM.

Errors are one line on stderr with exit code 1.
"""

import argparse
import json
import sys

from acaas_nova import exception
from acaas_nova.attestation import registration
from acaas_nova.evidence import ima_build
from acaas_nova.tpm import keys
from acaas_nova.tpm.device import TPMDevice

BANKS = ("sha1", "sha256")


def write_pcrs(tcti: str, output: str) -> None:
    with TPMDevice(tcti) as tpm:
        values = tpm.pcr_read({bank: range(11) for bank in BANKS})
    document = {
        bank: {str(i): v.hex() for i, v in sorted(pcrs.items())}
        for bank, pcrs in values.items()
    }
    with open(output, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=1, sort_keys=True)
        f.write("\n")


def _append(tpm: TPMDevice, log_path: str, line: str) -> None:
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(line + "\n")
    _, values = ima_build.line_hashes(line, BANKS)
    tpm.pcr_extend(10, values)


def measure(tcti: str, log_path: str, paths: list[str]) -> None:
    contents = []
    for path in paths:
        with open(path, "rb") as f:
            contents.append((path, f.read()))
    builder = ima_build.LogBuilder(BANKS)
    with TPMDevice(tcti) as tpm:
        pcrs = tpm.pcr_read({bank: range(11) for bank in BANKS})
        if not any(pcrs["sha256"][10]):
            # A fresh swtpm (started with clean PCRs): a fresh list.
            open(log_path, "w").close()
            _append(tpm, log_path, builder.add_boot_aggregate(pcrs))
        for path, content in contents:
            _append(tpm, log_path, builder.add_file(path, content))


def ek_fingerprint(tcti: str, kind: str) -> str:
    with TPMDevice(tcti) as tpm:
        return registration.ek_fingerprint(keys.read_ek(tpm, kind).public)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="acaas_node_evidence")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("pcrs", help="PCRs 0-10 as JSON")
    p.add_argument("--tcti", required=True)
    p.add_argument("--output", required=True)
    p = commands.add_parser("measure", help="measure files (swtpm)")
    p.add_argument("--tcti", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("paths", nargs="+", metavar="PATH")
    p = commands.add_parser("ek-fingerprint", help="the EK's fingerprint")
    p.add_argument("--tcti", required=True)
    p.add_argument("--ek-type", default="rsa2048")
    args = parser.parse_args(argv)
    try:
        if args.command == "pcrs":
            write_pcrs(args.tcti, args.output)
        elif args.command == "ek-fingerprint":
            print(ek_fingerprint(args.tcti, args.ek_type))
        else:
            measure(args.tcti, args.log, args.paths)
    except (OSError, exception.ACaaSException) as exc:
        print("acaas_node_evidence: error: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
