"""The DC-S certificate authority that issues AK certificates.

The chapter's controller "covers the Privacy-CA role" (§12.4.2): it
certifies each registered node's attestation key.  The CA lives in
``[dcs] ca_path`` as ca-key.pem and ca-cert.pem; a new self-signed CA is
created on first start if both are missing.  Several DC-S workers must
use the same CA: on one host they share ``ca_path`` (creation is under a
file lock, so workers starting together create one CA); on several hosts
copy the first worker's files to the others before starting them.
"""

import datetime
import fcntl
import logging
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from acaas_nova import exception

LOG = logging.getLogger(__name__)
CA_DAYS = 3650


def _create(key_path: Path, cert_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "ACaaS DC-S AK CA")]
    )
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
        .sign(key, hashes.SHA256())
    )
    key_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    LOG.info(
        "Created the DC-S AK certificate authority in %s", key_path.parent
    )


def load_or_create(path: str):
    """(private key, certificate) of the CA in ``path``."""
    base = Path(path)
    key_path, cert_path = base / "ca-key.pem", base / "ca-cert.pem"
    if not key_path.exists() or not cert_path.exists():
        try:
            base.mkdir(parents=True, exist_ok=True, mode=0o700)
            with open(base / ".create.lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if not key_path.exists() and not cert_path.exists():
                    _create(key_path, cert_path)
        except OSError as exc:
            raise exception.ConfigError(
                reason="cannot create the DC-S CA in %s: %s" % (path, exc)
            ) from None
    try:
        key = serialization.load_pem_private_key(
            key_path.read_bytes(), password=None
        )
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        raise exception.ConfigError(
            reason="cannot load the DC-S CA from %s: %s" % (path, exc)
        ) from None
    return key, cert
