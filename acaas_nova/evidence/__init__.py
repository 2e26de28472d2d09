"""Synthetic attestation evidence: known-good IMA logs and software-signed
TPM 2.0 structures for the demo, the benchmarks and the tests.

Nothing here judges evidence; that is :mod:`acaas_nova.attestation`.  These
builders are its inverse, kept apart so the verification core holds only
what decides whether a node is trusted.  Pure: standard library,
``cryptography`` and the attestation core's structure definitions.
"""
