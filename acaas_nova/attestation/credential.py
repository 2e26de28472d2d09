"""TPM2_MakeCredential in software (TPM 2.0 Part 1, 24 "Credential
Protection"), for the verifier side of registration.

The verifier encrypts a random secret to the node's EK so that only the TPM
holding that EK can recover it with TPM2_ActivateCredential, and binds it
to the AK's name so the TPM releases it only if that AK is loaded in the
same TPM.  A seed is transported to the EK (RSA: OAEP with label
``IDENTITY``; ECC: an ephemeral ECDH key and KDFe), a symmetric key and an
HMAC key are derived from the seed with KDFa, and the credential is
encrypted and integrity-protected with them.

Pure: standard library and ``cryptography`` only.
"""

import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.ciphers import modes

from acaas_nova.attestation import errors
from acaas_nova.attestation import tpm_structs as ts
from acaas_nova.attestation.tpm_public import PublicArea
from acaas_nova.attestation.tpm_public import curve_size

_CRYPTO_HASHES = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def kdfa(
    hash_name: str,
    key: bytes,
    label: bytes,
    context_u: bytes,
    context_v: bytes,
    bits: int,
) -> bytes:
    """KDFa of Part 1, 11.4.10.2: counter-mode HMAC (bits % 8 == 0)."""
    out = b""
    counter = 0
    tail = b"\0" + context_u + context_v + struct.pack(">I", bits)
    while len(out) * 8 < bits:
        counter += 1
        out += hmac.new(
            key, struct.pack(">I", counter) + label + tail, hash_name
        ).digest()
    return out[: bits // 8]


def kdfe(
    hash_name: str,
    z: bytes,
    label: bytes,
    party_u: bytes,
    party_v: bytes,
    bits: int,
) -> bytes:
    """KDFe of Part 1, 11.4.10.3: the ECDH key derivation (bits % 8 == 0)."""
    out = b""
    counter = 0
    while len(out) * 8 < bits:
        counter += 1
        out += hashlib.new(
            hash_name,
            struct.pack(">I", counter) + z + label + b"\0" + party_u + party_v,
        ).digest()
    return out[: bits // 8]


def _seed_for(ek: PublicArea) -> tuple[bytes, bytes]:
    """(seed, encrypted seed) for the EK (TPM2B_ENCRYPTED_SECRET body)."""
    name_alg = ek.name_alg
    size = ts.HASH_SIZES[name_alg]
    key = ek.public_key()
    if ek.type == ts.ALG_RSA:
        seed = os.urandom(size)
        algo = _CRYPTO_HASHES[name_alg]()
        encrypted = key.encrypt(
            seed,
            padding.OAEP(
                mgf=padding.MGF1(algo), algorithm=algo, label=b"IDENTITY\0"
            ),
        )
        return seed, encrypted
    ephemeral = ec.generate_private_key(key.curve)
    z = ephemeral.exchange(ec.ECDH(), key)
    numbers = ephemeral.public_key().public_numbers()
    width = curve_size(ek.curve)
    x = numbers.x.to_bytes(width, "big")
    y = numbers.y.to_bytes(width, "big")
    seed = kdfe(name_alg, z, b"IDENTITY", x, ek.ecc_x, size * 8)
    point = struct.pack(">H", width) + x + struct.pack(">H", width) + y
    return seed, point


def make_credential(
    ek: PublicArea, ak_name: bytes, secret: bytes
) -> tuple[bytes, bytes]:
    """Protect ``secret`` for ActivateCredential with the EK and AK name.

    Returns (TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET), both marshalled.
    The EK must be a restricted decryption key with an AES-CFB symmetric
    definition, as every EK template has.
    """
    if not ek.has_attributes(ts.OBJ_RESTRICTED | ts.OBJ_DECRYPT):
        raise errors.CredentialError(
            reason="EK public area is not a restricted decryption key"
        )
    if ek.sym_alg != ts.ALG_AES or ek.sym_mode != ts.ALG_CFB:
        raise errors.UnsupportedAlgorithm(
            reason="EK symmetric 0x%04x mode 0x%04x (need AES-CFB)"
            % (ek.sym_alg, ek.sym_mode)
        )
    if not 0 < len(secret) <= ts.HASH_SIZES[ek.name_alg]:
        raise errors.CredentialError(
            reason="secret must be 1-%d bytes" % ts.HASH_SIZES[ek.name_alg]
        )
    seed, encrypted_seed = _seed_for(ek)
    sym_key = kdfa(ek.name_alg, seed, b"STORAGE", ak_name, b"", ek.sym_bits)
    encryptor = Cipher(
        algorithms.AES(sym_key), modes.CFB(bytes(16))
    ).encryptor()
    enc_identity = (
        encryptor.update(struct.pack(">H", len(secret)) + secret)
        + encryptor.finalize()
    )
    digest_size = ts.HASH_SIZES[ek.name_alg]
    hmac_key = kdfa(ek.name_alg, seed, b"INTEGRITY", b"", b"", digest_size * 8)
    outer_hmac = hmac.new(
        hmac_key, enc_identity + ak_name, ek.name_alg
    ).digest()
    id_object = struct.pack(">H", len(outer_hmac)) + outer_hmac + enc_identity
    return (
        struct.pack(">H", len(id_object)) + id_object,
        struct.pack(">H", len(encrypted_seed)) + encrypted_seed,
    )
