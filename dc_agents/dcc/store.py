"""DC-C's registration state on disk (``[dcc] state_path``).

One JSON file, written atomically and readable only by its owner: the
AK (public part and TPM-wrapped private part), the CID and AK certificate
DC-S issued, and the channel secret sealed to PCRs 0-7.  Nothing in it is
usable outside this node's TPM.
"""

import base64
import dataclasses
import json
import os
from pathlib import Path

from acaas_nova import exception
from acaas_nova.tpm.keys import AttestationKeyBlob
from acaas_nova.tpm.seal import SealedSecret

FILE_NAME = "dcc-state.json"
#: Written when the sealed secret no longer unseals; holds the reason.
CHANGED_NAME = "platform-changed"


@dataclasses.dataclass(frozen=True)
class Identity:
    """A completed registration of this node."""

    host: str
    hypervisor_hostname: str
    ek_kind: str
    ak: AttestationKeyBlob
    sealed: SealedSecret
    cid: str
    ak_certificate: str


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _raw(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


def path(state_path: str) -> Path:
    return Path(state_path) / FILE_NAME


def save(state_path: str, ident: Identity) -> None:
    data = {
        "host": ident.host,
        "hypervisor_hostname": ident.hypervisor_hostname,
        "ek_kind": ident.ek_kind,
        "ak": {
            "kind": ident.ak.kind,
            "public": _b64(ident.ak.public),
            "private": _b64(ident.ak.private),
            "name": _b64(ident.ak.name),
        },
        "sealed": {
            "public": _b64(ident.sealed.public),
            "private": _b64(ident.sealed.private),
            "bank": ident.sealed.bank,
            "pcrs": list(ident.sealed.pcrs),
        },
        "cid": ident.cid,
        "ak_certificate": ident.ak_certificate,
    }
    target = path(state_path)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=1)
    os.replace(tmp, target)


def load(state_path: str) -> Identity | None:
    """The saved identity, or None if there is none."""
    source = path(state_path)
    if not source.exists():
        return None
    try:
        data = json.loads(source.read_text())
        ak, sealed = data["ak"], data["sealed"]
        return Identity(
            host=data["host"],
            hypervisor_hostname=data["hypervisor_hostname"],
            ek_kind=data["ek_kind"],
            ak=AttestationKeyBlob(
                ak["kind"],
                _raw(ak["public"]),
                _raw(ak["private"]),
                _raw(ak["name"]),
            ),
            sealed=SealedSecret(
                _raw(sealed["public"]),
                _raw(sealed["private"]),
                sealed["bank"],
                tuple(sealed["pcrs"]),
            ),
            cid=data["cid"],
            ak_certificate=data["ak_certificate"],
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise exception.ConfigError(
            reason="unreadable DC-C state %s: %s" % (source, exc)
        ) from None


def forget(state_path: str) -> None:
    path(state_path).unlink(missing_ok=True)
    (Path(state_path) / CHANGED_NAME).unlink(missing_ok=True)


def mark_platform_changed(state_path: str, reason: str) -> None:
    marker = Path(state_path) / CHANGED_NAME
    marker.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    marker.write_text(reason + "\n")


def platform_changed(state_path: str) -> str | None:
    """The recorded reason if the platform was found changed, else None."""
    marker = Path(state_path) / CHANGED_NAME
    try:
        return marker.read_text().strip() or "platform changed"
    except FileNotFoundError:
        return None
