"""Nonces: issued to one node, single use, expiring, bounded."""

import pytest

from acaas_nova.attestation import errors
from acaas_nova.attestation import nonces


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_issued_nonce_is_accepted_once():
    book = nonces.NonceBook()
    nonce = book.issue("n1")
    book.consume("n1", nonce)
    with pytest.raises(errors.NonceNotIssued, match="already used"):
        book.consume("n1", nonce)


def test_nonce_issued_to_another_node():
    book = nonces.NonceBook()
    nonce = book.issue("n2")
    with pytest.raises(errors.NonceNotIssued, match="another node"):
        book.consume("n1", nonce)
    book.consume("n2", nonce)  # still good for its own node


def test_hex_text_nonce_is_the_same_nonce():
    book = nonces.NonceBook()
    nonce = book.issue("n1")
    book.consume("n1", nonce.hex())


def test_expired_nonce():
    clock = Clock()
    book = nonces.NonceBook(ttl=5, clock=clock)
    nonce = book.issue("n1")
    clock.now += 6
    with pytest.raises(errors.NonceNotIssued, match="expired"):
        book.consume("n1", nonce)
    with pytest.raises(errors.NonceNotIssued):
        book.consume("n1", nonce)


def test_never_issued():
    book = nonces.NonceBook()
    with pytest.raises(errors.NonceNotIssued, match="not issued"):
        book.consume("n1", b"x" * 32)


def test_outstanding_nonces_are_bounded_per_node_and_overall():
    book = nonces.NonceBook(max_outstanding=2, max_nodes=3)
    first = book.issue("n1")
    for _ in range(1000):
        book.issue("n1")
    assert book.outstanding("n1") == 2
    with pytest.raises(errors.NonceNotIssued):
        book.consume("n1", first)
    for i in range(1000):
        book.issue("flood-%d" % i)
    assert book.outstanding() <= 3 * 2


@pytest.mark.parametrize("node", [None, "", 5, ["n1"], "x" * 256])
def test_bad_node_names(node):
    book = nonces.NonceBook()
    with pytest.raises(errors.MalformedInput):
        book.issue(node)
    with pytest.raises(errors.MalformedInput):
        book.consume(node, b"x")


@pytest.mark.parametrize("nonce", [None, 5, "zz", "", b"", b"x" * 65, [1]])
def test_bad_nonces(nonce):
    book = nonces.NonceBook()
    book.issue("n1")
    with pytest.raises(errors.MalformedInput):
        book.consume("n1", nonce)
