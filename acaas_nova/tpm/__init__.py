"""Agent-side TPM 2.0 access (tpm2-pytss ESAPI over any TCTI).

Glue, not a pure core: the DC-C agent uses it to read its EK, create and
use its AK, quote PCRs and seal its channel key.  tpm2-pytss is imported on
first use, never at import time of this package.
"""
