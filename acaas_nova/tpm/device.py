"""A connection to one TPM 2.0 through tpm2-pytss's ESAPI.

Any TCTI string works: ``swtpm:path=<socket>`` for swtpm in tests,
``device:/dev/tpmrm0`` on hosts.  Every TSS error becomes
:class:`~acaas_nova.attestation.errors.TPMError` naming the operation.

swtpm has no resource manager and three transient object slots, and what a
client loads stays loaded after it disconnects: callers flush every
transient object they create (:meth:`TPMDevice.transient`) and may call
:meth:`TPMDevice.flush_transient_objects` to clear what a crashed process
left behind when they know they are the TPM's only user.
"""

import contextlib
import logging
import os
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping

from acaas_nova.attestation import errors

LOG = logging.getLogger(__name__)

#: TPM2_PCR_Read answers at most this many PCRs per call.
PCR_READ_MAX = 8


def _tss():
    """Import tpm2-pytss on first use, with its expected-error log muted.

    The TSS logs every failed NV probe at error level; TSS2_LOG is read when
    the library is first loaded, so it is set here (unless the operator set
    it) rather than at our import time.
    """
    os.environ.setdefault("TSS2_LOG", "all+none")
    import tpm2_pytss

    return tpm2_pytss


@contextlib.contextmanager
def tpm_call(operation: str) -> Iterator[None]:
    """Translate TSS exceptions raised inside into TPMError."""
    tss = _tss()
    try:
        yield
    except tss.TSS2_Exception as exc:
        raise errors.TPMError(operation=operation, reason=str(exc)) from None


class TPMDevice:
    """An open ESAPI context; use as a context manager or call close()."""

    def __init__(self, tcti: str) -> None:
        self.tss = _tss()
        self.tcti = tcti
        with tpm_call("open %s" % tcti):
            self.esapi = self.tss.ESAPI(tcti)
        LOG.debug("Opened TPM through TCTI %s", tcti)

    def close(self) -> None:
        if self.esapi is not None:
            self.esapi.close()
            self.esapi = None

    def __enter__(self) -> "TPMDevice":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- handles -----------------------------------------------------------

    def handles(self, handle_type: int) -> list[int]:
        """TPM handles of one type (e.g. TPM2_HT.NV_INDEX) in use."""
        tss = self.tss
        first = handle_type << 24
        found: list[int] = []
        with tpm_call("get capability handles"):
            more = True
            while more:
                more, cap = self.esapi.get_capability(
                    tss.TPM2_CAP.HANDLES, first, 64
                )
                listed = cap.data.handles
                found.extend(int(listed[i]) for i in range(listed.count))
                if listed.count:
                    first = found[-1] + 1
                else:
                    more = False
        return found

    @contextlib.contextmanager
    def transient(self, handle) -> Iterator:
        """Yield a transient object's ESYS_TR and flush it afterwards."""
        try:
            yield handle
        finally:
            with tpm_call("flush context"):
                self.esapi.flush_context(handle)

    def flush_transient_objects(self) -> int:
        """Flush every loaded transient object (swtpm leftovers)."""
        handles = self.handles(self.tss.TPM2_HT.TRANSIENT)
        for tpm_handle in handles:
            with tpm_call("flush stale object 0x%08x" % tpm_handle):
                esys = self.esapi.tr_from_tpmpublic(tpm_handle)
                self.esapi.flush_context(esys)
        return len(handles)

    # -- NV ----------------------------------------------------------------

    def nv_read(self, index: int) -> bytes:
        """Whole contents of an NV index (TPMError if it is not defined)."""
        with tpm_call("NV read 0x%08x" % index):
            handle = self.esapi.tr_from_tpmpublic(index)
            try:
                public, _name = self.esapi.nv_read_public(handle)
                size = public.nvPublic.dataSize
                data = b""
                while len(data) < size:
                    # 1024 bytes is below every TPM's MAX_NV_BUFFER_SIZE.
                    chunk = min(size - len(data), 1024)
                    data += bytes(
                        self.esapi.nv_read(
                            handle, chunk, len(data), auth_handle=handle
                        )
                    )
            finally:
                self.esapi.tr_close(handle)
        return data

    # -- PCRs --------------------------------------------------------------

    def pcr_read(
        self, selection: Mapping[str, Iterable[int]]
    ) -> dict[str, dict[int, bytes]]:
        """Read PCR values: bank -> index -> value, 8 PCRs per command."""
        values: dict[str, dict[int, bytes]] = {}
        for bank, indices in selection.items():
            indices = sorted(set(indices))
            values[bank] = {}
            for start in range(0, len(indices), PCR_READ_MAX):
                part = indices[start : start + PCR_READ_MAX]
                spec = "%s:%s" % (bank, ",".join(map(str, part)))
                with tpm_call("PCR read %s" % spec):
                    sel = self.tss.TPML_PCR_SELECTION.parse(spec)
                    _cnt, _sel, digests = self.esapi.pcr_read(sel)
                if len(digests) != len(part):
                    raise errors.TPMError(
                        operation="PCR read %s" % spec,
                        reason="bank not active or PCRs unavailable",
                    )
                for index, digest in zip(part, digests, strict=True):
                    values[bank][index] = bytes(digest)
        return values

    def pcr_extend(self, index: int, digests: Mapping[str, bytes]) -> None:
        """Extend one PCR in several banks (bank name -> digest)."""
        tss = self.tss
        values = tss.TPML_DIGEST_VALUES(
            [
                tss.TPMT_HA(
                    hashAlg=getattr(tss.TPM2_ALG, bank.upper()),
                    digest=tss.TPMU_HA(**{bank: digest}),
                )
                for bank, digest in digests.items()
            ]
        )
        with tpm_call("PCR extend %d" % index):
            self.esapi.pcr_extend(
                getattr(tss.ESYS_TR, "PCR%d" % index), values
            )
