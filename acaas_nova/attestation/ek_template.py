"""The TCG default EK templates (EK Credential Profile 2.0, B.3 and B.4).

A TPM creates its EK from a template; everything but the key itself (the
``unique`` field) is fixed by the template.  An EK public area that
differs from every default template -- other attributes, another
authPolicy, a signing scheme, an RSA exponent written out instead of 0 --
is not an EK the profile knows, and its certificate's key may be shared
with a key that is not an EK at all.  :func:`check` refuses it with
:class:`~acaas_nova.attestation.errors.EKTemplateMismatch`.

Pure: standard library only.
"""

import dataclasses

from acaas_nova.attestation import errors
from acaas_nova.attestation import tpm_structs as ts
from acaas_nova.attestation.tpm_public import PublicArea

_COMMON = (
    ts.OBJ_FIXED_TPM
    | ts.OBJ_FIXED_PARENT
    | ts.OBJ_SENSITIVE_DATA_ORIGIN
    | ts.OBJ_ADMIN_WITH_POLICY
    | ts.OBJ_RESTRICTED
    | ts.OBJ_DECRYPT
)
LOW_ATTRIBUTES = _COMMON
HIGH_ATTRIBUTES = _COMMON | ts.OBJ_USER_WITH_AUTH

#: PolicySecret(TPM_RH_ENDORSEMENT) of the low-range templates.
POLICY_A_SHA256 = bytes.fromhex(
    "837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa"
)
#: PolicyOR(PolicyA, PolicyC) of the high-range templates, per nameAlg.
POLICY_B_SHA256 = bytes.fromhex(
    "ca3d0a99a2b93906f7a3342414efcfb3a385d44cd1fd459089d19b5071c0b7a0"
)
POLICY_B_SHA384 = bytes.fromhex(
    "b26e7d28d11a50bc53d882bcf5fd3a1a074148bb35d3b4e4"
    "cb1c0ad9bde419cacb47ba09699646150f9fc000f3f80e12"
)


@dataclasses.dataclass(frozen=True)
class Template:
    type: int
    name_alg: str
    attributes: int
    auth_policy: bytes
    sym_bits: int
    rsa_bits: int = 0
    curve: int = 0


TEMPLATES = {
    "L-1": Template(
        ts.ALG_RSA, "sha256", LOW_ATTRIBUTES, POLICY_A_SHA256, 128, 2048
    ),
    "L-2": Template(
        ts.ALG_ECC,
        "sha256",
        LOW_ATTRIBUTES,
        POLICY_A_SHA256,
        128,
        curve=ts.ECC_NIST_P256,
    ),
    "H-1": Template(
        ts.ALG_RSA, "sha256", HIGH_ATTRIBUTES, POLICY_B_SHA256, 128, 2048
    ),
    "H-2": Template(
        ts.ALG_ECC,
        "sha256",
        HIGH_ATTRIBUTES,
        POLICY_B_SHA256,
        128,
        curve=ts.ECC_NIST_P256,
    ),
    "H-3": Template(
        ts.ALG_ECC,
        "sha384",
        HIGH_ATTRIBUTES,
        POLICY_B_SHA384,
        256,
        curve=ts.ECC_NIST_P384,
    ),
    "H-6": Template(
        ts.ALG_RSA, "sha384", HIGH_ATTRIBUTES, POLICY_B_SHA384, 256, 3072
    ),
    "H-7": Template(
        ts.ALG_RSA, "sha384", HIGH_ATTRIBUTES, POLICY_B_SHA384, 256, 4096
    ),
}


def _matches(spec: Template, ek: PublicArea) -> bool:
    if (
        ek.type != spec.type
        or ek.name_alg != spec.name_alg
        or ek.attributes != spec.attributes
        or ek.auth_policy != spec.auth_policy
        or ek.sym_alg != ts.ALG_AES
        or ek.sym_bits != spec.sym_bits
        or ek.sym_mode != ts.ALG_CFB
        or ek.scheme != ts.ALG_NULL
    ):
        return False
    if spec.type == ts.ALG_RSA:
        return ek.rsa_bits == spec.rsa_bits and ek.rsa_exponent == 0
    return ek.curve == spec.curve


def match(ek: PublicArea) -> str | None:
    """The name of the default template ``ek`` was made from, or None."""
    for name, spec in TEMPLATES.items():
        if _matches(spec, ek):
            return name
    return None


def check(ek: PublicArea) -> str:
    """Return the template name, or raise EKTemplateMismatch saying why."""
    name = match(ek)
    if name is not None:
        return name
    if ek.type == ts.ALG_RSA and ek.rsa_exponent != 0:
        reason = (
            "RSA exponent field is %d, EK templates use 0" % ek.rsa_exponent
        )
    elif ek.scheme != ts.ALG_NULL:
        reason = "EK has a signing scheme"
    elif not ek.has_attributes(ts.OBJ_RESTRICTED | ts.OBJ_DECRYPT) or (
        ek.attributes & ts.OBJ_SIGN
    ):
        reason = "EK is not a restricted decryption-only key"
    else:
        reason = (
            "attributes 0x%08x, authPolicy or symmetric definition match "
            "no TCG default EK template" % ek.attributes
        )
    raise errors.EKTemplateMismatch(reason=reason)
