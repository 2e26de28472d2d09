"""Sealing a secret to the platform state (the chapter's sealed channel key).

The secret becomes a TPM sealed-data object under the owner hierarchy's
storage root key, with an authPolicy of PolicyPCR over PCRs 0-7 (the boot
configuration) at their values when sealed.  The agent can unseal it only
while those PCRs are unchanged; otherwise :class:`PlatformChanged`.

The storage root key is the standard ECC P-256 SRK template, derived from
the owner seed, so it is recreated identically at every use and flushed.
"""

import contextlib
import dataclasses
from collections.abc import Iterable
from collections.abc import Iterator

from acaas_nova.attestation import errors
from acaas_nova.tpm.device import TPMDevice
from acaas_nova.tpm.device import tpm_call

BOOT_PCRS = tuple(range(8))
MAX_SECRET = 128  # MAX_SYM_DATA of TPM 2.0


@dataclasses.dataclass(frozen=True)
class SealedSecret:
    """A sealed object as the agent stores it, with its PCR binding."""

    public: bytes  # marshalled TPM2B_PUBLIC
    private: bytes  # marshalled TPM2B_PRIVATE
    bank: str
    pcrs: tuple[int, ...]


@contextlib.contextmanager
def _srk(tpm: TPMDevice) -> Iterator:
    tss = tpm.tss
    attrs = tss.TPMA_OBJECT
    template = tss.TPM2B_PUBLIC.parse(
        "ecc256:aes128cfb",
        objectAttributes=attrs.RESTRICTED
        | attrs.DECRYPT
        | attrs.FIXEDTPM
        | attrs.FIXEDPARENT
        | attrs.SENSITIVEDATAORIGIN
        | attrs.USERWITHAUTH
        | attrs.NODA,
    )
    with tpm_call("create SRK"):
        handle, _, _, _, _ = tpm.esapi.create_primary(
            None, template, tss.ESYS_TR.OWNER
        )
    with tpm.transient(handle):
        yield handle


@contextlib.contextmanager
def _pcr_policy(tpm: TPMDevice, bank: str, pcrs: Iterable[int], trial: bool):
    tss = tpm.tss
    spec = "%s:%s" % (bank, ",".join(map(str, pcrs)))
    with tpm_call("PCR policy session"):
        session = tpm.esapi.start_auth_session(
            tss.ESYS_TR.NONE,
            tss.ESYS_TR.NONE,
            tss.TPM2_SE.TRIAL if trial else tss.TPM2_SE.POLICY,
            tss.TPMT_SYM_DEF(algorithm=tss.TPM2_ALG.NULL),
            tss.TPM2_ALG.SHA256,
        )
    with tpm.transient(session):
        with tpm_call("PolicyPCR %s" % spec):
            # An empty digest: the TPM uses the PCRs' current values.
            tpm.esapi.policy_pcr(
                session, b"", tss.TPML_PCR_SELECTION.parse(spec)
            )
        yield session


def seal(
    tpm: TPMDevice,
    secret: bytes,
    pcrs: Iterable[int] = BOOT_PCRS,
    bank: str = "sha256",
) -> SealedSecret:
    """Seal ``secret`` to the current values of ``pcrs`` in ``bank``."""
    tss = tpm.tss
    if not 0 < len(secret) <= MAX_SECRET:
        raise errors.TPMError(
            operation="seal",
            reason="secret must be 1-%d bytes" % MAX_SECRET,
        )
    pcrs = tuple(sorted(set(pcrs)))
    with _pcr_policy(tpm, bank, pcrs, trial=True) as trial:
        with tpm_call("policy digest"):
            policy = bytes(tpm.esapi.policy_get_digest(trial))
    attrs = tss.TPMA_OBJECT
    template = tss.TPM2B_PUBLIC(
        publicArea=tss.TPMT_PUBLIC(
            type=tss.TPM2_ALG.KEYEDHASH,
            nameAlg=tss.TPM2_ALG.SHA256,
            objectAttributes=attrs.FIXEDTPM | attrs.FIXEDPARENT,
            authPolicy=policy,
            parameters=tss.TPMU_PUBLIC_PARMS(
                keyedHashDetail=tss.TPMS_KEYEDHASH_PARMS(
                    scheme=tss.TPMT_KEYEDHASH_SCHEME(scheme=tss.TPM2_ALG.NULL)
                )
            ),
        )
    )
    sensitive = tss.TPM2B_SENSITIVE_CREATE(
        sensitive=tss.TPMS_SENSITIVE_CREATE(data=secret)
    )
    with _srk(tpm) as srk, tpm_call("create sealed object"):
        private, public, _, _, _ = tpm.esapi.create(srk, sensitive, template)
    return SealedSecret(public.marshal(), private.marshal(), bank, pcrs)


def unseal(tpm: TPMDevice, sealed: SealedSecret) -> bytes:
    """Recover a sealed secret; PlatformChanged if the PCRs differ."""
    tss = tpm.tss
    with _srk(tpm) as srk:
        with tpm_call("load sealed object"):
            public, _ = tss.TPM2B_PUBLIC.unmarshal(sealed.public)
            private, _ = tss.TPM2B_PRIVATE.unmarshal(sealed.private)
            handle = tpm.esapi.load(srk, private, public)
        with (
            tpm.transient(handle),
            _pcr_policy(tpm, sealed.bank, sealed.pcrs, trial=False) as sess,
        ):
            try:
                return bytes(tpm.esapi.unseal(handle, session1=sess))
            except tss.TSS2_Exception as exc:
                if exc.error == tss.TPM2_RC.POLICY_FAIL:
                    raise errors.PlatformChanged(
                        reason="PCRs %s of bank %s differ from when sealed"
                        % (",".join(map(str, sealed.pcrs)), sealed.bank)
                    ) from None
                raise errors.TPMError(
                    operation="unseal", reason=str(exc)
                ) from None
