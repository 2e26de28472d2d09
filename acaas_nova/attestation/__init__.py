"""Attestation core: pure verification of TPM 2.0 quotes, IMA measurement
lists, white-lists and chain-of-trust values.

Modules in this package import only the standard library, ``cryptography``
and tpm2-pytss structure types; a unit test guards that boundary.
"""
