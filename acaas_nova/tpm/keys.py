"""Endorsement and attestation keys, credential activation and quoting.

The agent side of registration (Protocol 12.1) and attestation (12.2):

* the EK certificate is read from NV (TCG EK Credential Profile indices) and
  the EK is created from its template (or used where it is persistent);
* the AK is a restricted signing key created and loaded under the EK, which
  requires a PolicySecret(ENDORSEMENT) session;
* ActivateCredential decrypts the verifier's credential, proving the AK
  lives in the TPM that holds the EK;
* quotes cover the PCRs the verifier asks for.

AKs are kept as (TPM2B_PUBLIC, TPM2B_PRIVATE) blobs and loaded for each use
so that no transient slot stays taken.
"""

import contextlib
import dataclasses
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping

from acaas_nova.attestation import errors
from acaas_nova.tpm.device import TPMDevice
from acaas_nova.tpm.device import tpm_call

#: EK kinds: (pytss template name, NV index of the certificate,
#: persistent handle swtpm_setup and most provisioning tools use).
EK_KINDS = {
    "rsa2048": ("EK-RSA2048", 0x01C00002, 0x81010001),
    "ecc256": ("EK-ECC256", 0x01C0000A, 0x81010002),
    "ecc384": ("EK-HIGH-ECC384", 0x01C00016, 0x81010016),
}

#: AK kinds: pytss key specification with its signing scheme.
AK_KINDS = {
    "rsa2048": "rsa2048:rsassa-sha256:null",
    "rsa2048-pss": "rsa2048:rsapss-sha256:null",
    "ecc256": "ecc256:ecdsa-sha256:null",
    "ecc384": "ecc384:ecdsa-sha384:null",
}


@dataclasses.dataclass(frozen=True)
class EndorsementKey:
    """The EK as reported to the verifier."""

    kind: str
    public: bytes  # marshalled TPM2B_PUBLIC
    certificate: bytes | None  # DER from NV, if provisioned


@dataclasses.dataclass(frozen=True)
class AttestationKeyBlob:
    """An AK as the agent stores it between uses."""

    kind: str
    public: bytes  # marshalled TPM2B_PUBLIC
    private: bytes  # marshalled TPM2B_PRIVATE (wrapped by the EK)
    name: bytes


@dataclasses.dataclass(frozen=True)
class QuoteEvidence:
    """What the agent sends: TPMS_ATTEST, TPMT_SIGNATURE and PCR values."""

    attest: bytes
    signature: bytes
    pcrs: dict[str, dict[int, bytes]]


def _ek_template(tpm: TPMDevice, kind: str):
    tss = tpm.tss
    from tpm2_pytss.utils import NoSuchIndex
    from tpm2_pytss.utils import create_ek_template

    try:
        template_name, _cert_index, _persistent = EK_KINDS[kind]
    except KeyError:
        raise errors.UnsupportedAlgorithm(reason="EK kind %s" % kind) from None
    defined = set(tpm.handles(tss.TPM2_HT.NV_INDEX))

    def read(index: int) -> bytes:
        # Probing undefined indices makes the TSS log errors: look first.
        if int(index) not in defined:
            raise NoSuchIndex(index)
        return tpm.nv_read(int(index))

    try:
        return create_ek_template(template_name, read)
    except ValueError as exc:
        raise errors.TPMError(
            operation="EK template %s" % kind, reason=str(exc)
        ) from None


def read_ek(tpm: TPMDevice, kind: str = "rsa2048") -> EndorsementKey:
    """Read the EK certificate and public area of one EK kind."""
    cert, _template = _ek_template(tpm, kind)
    with ek_handle(tpm, kind) as handle:
        with tpm_call("read EK public"):
            public, _name, _qname = tpm.esapi.read_public(handle)
    return EndorsementKey(kind, public.marshal(), cert)


@contextlib.contextmanager
def ek_handle(tpm: TPMDevice, kind: str = "rsa2048") -> Iterator:
    """Yield an ESYS_TR for the EK: persistent if present, else created.

    A persistent EK is used only if its public area is the template's key
    (the same seed gives the same key), so a foreign key parked at the
    conventional handle is never mistaken for the EK.
    """
    tss = tpm.tss
    _cert, template = _ek_template(tpm, kind)
    persistent = EK_KINDS[kind][2]
    with tpm_call("create EK %s" % kind):
        handle, public, _, _, _ = tpm.esapi.create_primary(
            None, template, tss.ESYS_TR.ENDORSEMENT
        )
    if persistent in tpm.handles(tss.TPM2_HT.PERSISTENT):
        with tpm_call("read persistent EK"):
            stored = tpm.esapi.tr_from_tpmpublic(persistent)
            stored_public, _, _ = tpm.esapi.read_public(stored)
        if stored_public.marshal() == public.marshal():
            with tpm_call("flush EK"):
                tpm.esapi.flush_context(handle)
            yield stored
            return
    with tpm.transient(handle):
        yield handle


#: PolicyC of the high-range EK templates (EK Credential Profile 2.0,
#: B.6): the second branch of their PolicyOR authPolicy, per nameAlg.
_EK_POLICY_C = {
    "sha256": bytes.fromhex(
        "3767e2edd43ff45a3a7e1eaefcef78643dca964632e7aad82c673a30d8633fde"
    ),
    "sha384": bytes.fromhex(
        "d6032ce61f2fb3c240eb3cf6a33237ef2b6a16f4293c22b455e261cffd217ad5"
        "b4947c2d73e63005eed2dc2b3593d165"
    ),
}


@contextlib.contextmanager
def endorsement_session(tpm: TPMDevice, kind: str = "rsa2048") -> Iterator:
    """A policy session satisfying the EK's authPolicy.

    Low-range EKs use PolicySecret(ENDORSEMENT) with SHA-256; high-range
    ones (e.g. ECC P-384) the same PolicySecret with their nameAlg, as one
    branch of a PolicyOR.
    """
    tss = tpm.tss
    high = EK_KINDS.get(kind, ("",))[0].startswith("EK-HIGH")
    name_alg = "sha384" if kind == "ecc384" else "sha256"
    with tpm_call("start EK policy session"):
        session = tpm.esapi.start_auth_session(
            tss.ESYS_TR.NONE,
            tss.ESYS_TR.NONE,
            tss.TPM2_SE.POLICY,
            tss.TPMT_SYM_DEF(algorithm=tss.TPM2_ALG.NULL),
            getattr(tss.TPM2_ALG, name_alg.upper()),
        )
    with tpm.transient(session):
        with tpm_call("EK policy"):
            tpm.esapi.policy_secret(
                tss.ESYS_TR.ENDORSEMENT, session, b"", b"", b"", 0
            )
            if high:
                branch_a = tpm.esapi.policy_get_digest(session)
                tpm.esapi.policy_or(
                    session,
                    tss.TPML_DIGEST([branch_a, _EK_POLICY_C[name_alg]]),
                )
        yield session


def create_ak(
    tpm: TPMDevice, kind: str = "rsa2048", ek_kind: str = "rsa2048"
) -> AttestationKeyBlob:
    """Create a restricted signing key under the EK."""
    tss = tpm.tss
    if kind not in AK_KINDS:
        raise errors.UnsupportedAlgorithm(reason="AK kind %s" % kind)
    attrs = tss.TPMA_OBJECT
    template = tss.TPM2B_PUBLIC.parse(
        AK_KINDS[kind],
        objectAttributes=attrs.RESTRICTED
        | attrs.SIGN_ENCRYPT
        | attrs.FIXEDTPM
        | attrs.FIXEDPARENT
        | attrs.SENSITIVEDATAORIGIN
        | attrs.USERWITHAUTH,
    )
    with (
        ek_handle(tpm, ek_kind) as ek,
        endorsement_session(tpm, ek_kind) as session,
    ):
        with tpm_call("create AK"):
            private, public, _, _, _ = tpm.esapi.create(
                ek, None, template, session1=session
            )
    blob = AttestationKeyBlob(kind, public.marshal(), private.marshal(), b"")
    with load_ak(tpm, blob, ek_kind) as handle:
        with tpm_call("AK name"):
            name = bytes(tpm.esapi.tr_get_name(handle))
    return dataclasses.replace(blob, name=name)


@contextlib.contextmanager
def load_ak(
    tpm: TPMDevice, blob: AttestationKeyBlob, ek_kind: str = "rsa2048"
) -> Iterator:
    """Load an AK under the EK for the duration of the block."""
    tss = tpm.tss
    with (
        ek_handle(tpm, ek_kind) as ek,
        endorsement_session(tpm, ek_kind) as session,
    ):
        with tpm_call("load AK"):
            public, _ = tss.TPM2B_PUBLIC.unmarshal(blob.public)
            private, _ = tss.TPM2B_PRIVATE.unmarshal(blob.private)
            handle = tpm.esapi.load(ek, private, public, session1=session)
    with tpm.transient(handle):
        yield handle


def activate_credential(
    tpm: TPMDevice,
    blob: AttestationKeyBlob,
    credential_blob: bytes,
    encrypted_secret: bytes,
    ek_kind: str = "rsa2048",
    parent_kind: str = "rsa2048",
) -> bytes:
    """ActivateCredential: recover the verifier's secret (CredentialError).

    ``ek_kind`` is the EK the credential was made for, ``parent_kind`` the
    EK the AK was created under; they may differ.
    """
    tss = tpm.tss
    with load_ak(tpm, blob, parent_kind) as ak:
        with (
            ek_handle(tpm, ek_kind) as ek,
            endorsement_session(tpm, ek_kind) as session,
        ):
            try:
                id_object, _ = tss.TPM2B_ID_OBJECT.unmarshal(credential_blob)
                secret, _ = tss.TPM2B_ENCRYPTED_SECRET.unmarshal(
                    encrypted_secret
                )
                out = tpm.esapi.activate_credential(
                    ak, ek, id_object, secret, session2=session
                )
            except tss.TSS2_Exception as exc:
                raise errors.CredentialError(
                    reason="TPM refused the credential: %s" % exc
                ) from None
    return bytes(out)


def quote(
    tpm: TPMDevice,
    blob: AttestationKeyBlob,
    nonce: bytes,
    selection: Mapping[str, Iterable[int]],
    ek_kind: str = "rsa2048",
    attempts: int = 3,
) -> QuoteEvidence:
    """Quote the selected PCRs and read their values.

    The values are read before and after quoting; if a PCR changed in
    between (IMA extends concurrently) the quote is retaken.
    """
    tss = tpm.tss
    spec = "+".join(
        "%s:%s" % (bank, ",".join(map(str, sorted(set(pcrs)))))
        for bank, pcrs in selection.items()
    )
    with tpm_call("parse PCR selection"):
        pcr_select = tss.TPML_PCR_SELECTION.parse(spec)
    scheme = tss.TPMT_SIG_SCHEME(scheme=tss.TPM2_ALG.NULL)
    with load_ak(tpm, blob, ek_kind) as ak:
        for _ in range(attempts):
            before = tpm.pcr_read(selection)
            with tpm_call("quote"):
                attest, signature = tpm.esapi.quote(
                    ak, pcr_select, nonce, scheme
                )
            after = tpm.pcr_read(selection)
            if before == after:
                return QuoteEvidence(bytes(attest), signature.marshal(), after)
    raise errors.TPMError(
        operation="quote",
        reason="PCRs kept changing during %d attempts" % attempts,
    )
