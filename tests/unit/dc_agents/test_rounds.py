"""The round book: nonce binding, single use, expiry, replay refused."""

import itertools

import pytest

from dc_agents.dcs import rounds


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def _book(clock=None, deadline=5.0, worker="w1"):
    counter = itertools.count()

    def randbytes(n):  # distinct, deterministic "random" bytes
        return next(counter).to_bytes(n, "big")

    return rounds.RoundBook(worker, deadline, clock or Clock(), randbytes)


def _asks(*nodes):
    return [((n, n), n, 3, False, None) for n in nodes]


def test_nonce_bound_to_round_worker_and_node():
    r1, r2 = b"a" * 32, b"b" * 32
    base = rounds.node_nonce(r1, "w1", "n1")
    assert len(base) == 32
    assert base != rounds.node_nonce(r2, "w1", "n1")
    assert base != rounds.node_nonce(r1, "w2", "n1")
    assert base != rounds.node_nonce(r1, "w1", "n2")
    # No ambiguity between worker and node names.
    assert rounds.node_nonce(r1, "w1", "n1") != rounds.node_nonce(
        r1, "w1n", "1"
    )


def test_open_gives_each_node_its_nonce():
    book = _book()
    round_id, nonce, made = book.open(_asks("n1", "n2"))
    assert {a.node for a in made} == {"n1", "n2"}
    for ask in made:
        assert ask.nonce == rounds.node_nonce(nonce, "w1", ask.node)
        assert ask.round_id == round_id and ask.offset == 3
    assert len(book) == 2


def test_rounds_have_fresh_ids_and_nonces():
    book = _book()
    a = book.open(_asks("n1"))
    book.claim(a[0], "n1")
    b = book.open(_asks("n1"))
    assert a[0] != b[0] and a[1] != b[1]
    assert a[2][0].nonce != b[2][0].nonce


def test_claim_is_single_use():
    book = _book()
    round_id, _nonce, _made = book.open(_asks("n1", "n2"))
    assert book.claim(round_id, "n1").node == "n1"
    with pytest.raises(rounds.RoundRefused, match="has answered"):
        book.claim(round_id, "n1")
    assert book.claim(round_id, "n2").node == "n2"
    with pytest.raises(rounds.RoundRefused, match="unknown or expired"):
        book.claim(round_id, "n2")


def test_answer_for_a_node_not_asked_or_another_round_refused():
    book = _book()
    r1, _n, _m = book.open(_asks("n1"))
    r2, _n, _m = book.open(_asks("n2"))
    with pytest.raises(rounds.RoundRefused, match="not asked"):
        book.claim(r1, "n2")  # n2's answer replayed into n1's round
    with pytest.raises(rounds.RoundRefused, match="not asked"):
        book.claim(r2, "n1")
    with pytest.raises(rounds.RoundRefused, match="unknown"):
        book.claim("feedfacefeedface", "n1")
    assert book.claim(r1, "n1").node == "n1"


def test_old_round_replay_refused():
    book = _book()
    r1, _n, _m = book.open(_asks("n1"))
    book.claim(r1, "n1")
    book.open(_asks("n1"))
    with pytest.raises(rounds.RoundRefused):
        book.claim(r1, "n1")  # the previous round's answer again


def test_expiry():
    clock = Clock()
    book = _book(clock, deadline=5.0)
    round_id, _n, _m = book.open(_asks("n1", "n2"))
    book.claim(round_id, "n1")
    clock.now += 5.0
    assert book.expire() == []  # at the deadline: still valid
    clock.now += 0.1
    with pytest.raises(rounds.RoundRefused, match="after its deadline"):
        book.claim(round_id, "n2")
    expired = book.expire()
    assert [a.node for a in expired] == ["n2"]
    assert book.expire() == [] and len(book) == 0
    with pytest.raises(rounds.RoundRefused, match="unknown or expired"):
        book.claim(round_id, "n2")


def test_node_never_asked_twice_at_once():
    clock = Clock()
    book = _book(clock)
    book.open(_asks("n1"))
    _r, _n, made = book.open(_asks("n1", "n2"))
    assert [a.node for a in made] == ["n2"]
    assert book.is_open(("n1", "n1"))
    clock.now += 10
    book.expire()
    assert not book.is_open(("n1", "n1"))
    _r, _n, made = book.open(_asks("n1"))
    assert [a.node for a in made] == ["n1"]


def test_empty_round_is_not_recorded():
    book = _book()
    _r, _n, made = book.open([])
    assert made == [] and len(book) == 0 and book.expire() == []


def test_partition_is_stable_and_spread():
    assert rounds.partition("node-1", 64) == rounds.partition("node-1", 64)
    counts = [0] * 8
    for i in range(8000):
        counts[rounds.partition("n%d" % i, 8)] += 1
    assert min(counts) > 850 and max(counts) < 1150


def test_answer_that_arrived_in_time_is_not_late_when_judged_late():
    clock = Clock()
    book = _book(clock, deadline=5.0)
    round_id, _n, _m = book.open(_asks("n1", "n2"))
    arrived = clock.now + 4.0
    clock.now += 9.0  # judged after the deadline, from a queue
    assert book.claim(round_id, "n1", at=arrived).node == "n1"
    with pytest.raises(rounds.RoundRefused, match="deadline"):
        book.claim(round_id, "n2", at=clock.now)
    # A sweep stamped before the deadline expires nothing.
    assert book.expire(now=arrived) == []
    assert [a.node for a in book.expire(now=clock.now)] == ["n2"]
