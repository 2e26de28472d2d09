"""Write the seed corpora of the fuzz harnesses (tests/fuzz/corpus/).

Seeds are real inputs: what the evidence builders produce byte for byte
as a TPM / kernel would (quotes, signatures, public areas, measurement
lists, EK certificate chains, white-lists).  Files that came from real
tools (tpm2-tools output, a swtpm EK certificate) are committed beside
them and not rewritten here.  Run from the repository root::

    python -m tests.fuzz.make_seeds
"""

import datetime
import hashlib
import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa

from acaas_nova.attestation import tpm_structs as ts
from acaas_nova.attestation import whitelist
from acaas_nova.evidence import ek_build
from acaas_nova.evidence import ima_build
from acaas_nova.evidence import tpm_build
from tests.fuzz import rpc_seeds
from tests.fuzz.harness import CORPUS

NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)


def _write(name: str, seeds: dict[str, bytes]) -> None:
    folder = CORPUS / name
    folder.mkdir(parents=True, exist_ok=True)
    for file, data in seeds.items():
        (folder / file).write_bytes(data)


def _log():
    pcrs = {
        "sha1": {i: hashlib.sha1(b"%d" % i).digest() for i in range(10)},
        "sha256": {i: hashlib.sha256(b"%d" % i).digest() for i in range(10)},
    }
    log = ima_build.LogBuilder(("sha1", "sha256"))
    log.add_boot_aggregate(pcrs)
    log.add_file("/usr/bin/python3.11", b"python")
    log.add_file("/usr/lib/x86_64-linux-gnu/libc.so.6", b"libc", "sha1")
    log.add_file("/etc/with space/name", b"conf")
    log.add(
        "ima-sig",
        ima_build.file_digest(b"signed"),
        "/usr/sbin/signed",
        sig="030204" + "ab" * 8,
    )
    log.add(
        "ima-buf",
        "sha256:" + hashlib.sha256(b"\x01\x02").hexdigest(),
        "kexec-cmdline",
        buf="0102",
    )
    log.add("ima", "sha1:" + hashlib.sha1(b"old").hexdigest(), "/old")
    log.add("ima-ng", "sha256:" + "00" * 32, "/tmp/violation", violation=True)
    return log, pcrs


def main() -> None:
    log, pcrs = _log()
    text = log.text()
    _write(
        "ima_lines",
        {
            "full.txt": text.encode(),
            "boot_only.txt": log.lines[0].encode() + b"\n",
            "sig_and_buf.txt": "\n".join(log.lines[4:6]).encode(),
        },
    )

    rsa_key = rsa.generate_private_key(65537, 2048)
    p256 = ec.generate_private_key(ec.SECP256R1())
    p384 = ec.generate_private_key(ec.SECP384R1())
    nonce = b"n" * 32
    values = {
        "sha256": {i: hashlib.sha256(b"%d" % i).digest() for i in range(11)},
        "sha1": {i: hashlib.sha1(b"%d" % i).digest() for i in range(11)},
    }
    attests = {
        "sha256_0_10.bin": tpm_build.quote_attest(
            nonce, [("sha256", range(11))], values
        ),
        "two_banks.bin": tpm_build.quote_attest(
            nonce, [("sha256", range(11)), ("sha1", range(11))], values
        ),
        "reset.bin": tpm_build.quote_attest(
            b"", [("sha1", [0])], values, reset_count=7, restart_count=3
        ),
    }
    _write("tpms_attest", attests)
    message = attests["sha256_0_10.bin"]
    _write(
        "tpmt_signature",
        {
            "rsassa.bin": tpm_build.sign(rsa_key, message),
            "rsapss.bin": tpm_build.sign(rsa_key, message, ts.ALG_RSAPSS),
            "ecdsa_p256.bin": tpm_build.sign(p256, message, ts.ALG_ECDSA),
            "ecdsa_p384.bin": tpm_build.sign(
                p384, message, ts.ALG_ECDSA, "sha384"
            ),
        },
    )
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    _write(
        "tpm2b_public",
        {
            "ak_rsa.bin": tpm_build.tpm2b_public(rsa_key.public_key()),
            "ak_p256.bin": tpm_build.tpm2b_public(
                p256.public_key(), scheme=ts.ALG_ECDSA
            ),
            "ek_l1.bin": ek_build.ek_public(rsa_key.public_key(), "L-1"),
            "ek_l2.bin": ek_build.ek_public(p256.public_key(), "L-2"),
            "ek_h3.bin": ek_build.ek_public(p384.public_key(), "H-3"),
            "ak_p256.pem": p256.public_key().public_bytes(
                serialization.Encoding.PEM, spki
            ),
        },
    )
    root = ek_build.CertificateAuthority("EK root", now=NOW)
    inter = root.intermediate("EK issuing CA")
    _write(
        "ek_certificate",
        {
            "ek_rsa.der": ek_build.der(
                inter.ek_certificate(rsa_key.public_key())
            ),
            "ek_p256.der": ek_build.der(
                inter.ek_certificate(p256.public_key(), eku=[])
            ),
            "ek_rsa.pem": ek_build.pem(
                inter.ek_certificate(rsa_key.public_key())
            ),
            "intermediate.der": ek_build.der(inter.cert),
        },
    )
    generated = whitelist.generate(
        "compute", "2026.11", text, pcrs, excludes=["/var/log/*"]
    )
    _write(
        "whitelist",
        {
            "generated.json": whitelist.dump(generated).encode(),
            "minimal.json": json.dumps(
                {
                    "name": "m",
                    "version": "1",
                    "boot_aggregates": ["sha256:" + "ab" * 32],
                }
            ).encode(),
        },
    )
    _write(
        "requirements",
        {
            "a.bin": b"\x03\x00\x01acaas:location\x05dom-eu\x00",
            "b.bin": bytes(range(64)),
        },
    )
    _write("rpc_messages", rpc_seeds.seeds(text))


if __name__ == "__main__":
    main()
