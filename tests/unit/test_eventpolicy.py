"""Event text is one clean bounded line; bursts are rate-limited."""

import pytest

from acaas_nova import eventpolicy


@pytest.mark.parametrize(
    "text, expected",
    [
        ("node n1 refused", "node n1 refused"),
        ("two\nlines\r\tand tab", "two lines  and tab"),
        ("bell\x07 esc\x1b[31m", "bell\\x07 esc\\x1b[31m"),
        ("zero\x00width\u200b", "zero\\x00width?"),
        ("unicodé ✓", "unicodé ✓"),
        (None, "None"),
        (b"bytes", "b'bytes'"),
    ],
)
def test_clean(text, expected):
    assert eventpolicy.clean(text, 100) == expected


def test_clean_caps_the_length():
    assert eventpolicy.clean("x" * 5000, 2000) == "x" * 1997 + "..."
    assert len(eventpolicy.clean("\x00" * 1000, 255)) == 255


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_burst_is_limited_and_the_rest_counted():
    clock = Clock()
    limiter = eventpolicy.RateLimiter(burst=5, rate=0.1, clock=clock)
    results = [limiter.admit(("n1", "ACAAS-DCS-001")) for _ in range(1000)]
    assert sum(ok for ok, _ in results) == 5
    assert results[-1] == (False, 995)
    # Other subjects are not affected.
    assert limiter.admit(("n2", "ACAAS-DCS-001")) == (True, 0)
    clock.now += 10  # one token back
    assert limiter.admit(("n1", "ACAAS-DCS-001")) == (True, 995)
    assert limiter.admit(("n1", "ACAAS-DCS-001")) == (False, 1)


def test_memory_is_bounded(monkeypatch):
    monkeypatch.setattr(eventpolicy, "MAX_KEYS", 100)
    limiter = eventpolicy.RateLimiter(burst=1, rate=0.0, clock=Clock())
    for n in range(1000):
        limiter.admit(("node-%d" % n, "E"))
    assert len(limiter._buckets) <= 101
