"""Ages of attestations as host list/show print them."""

import datetime

from acaas_nova.cmd import host

NOW = datetime.datetime(2026, 11, 26, 12, 0, 0, tzinfo=datetime.UTC)


def ago(**delta):
    return host.age(NOW - datetime.timedelta(**delta), NOW)


def test_age():
    assert host.age(None, NOW) == "never"
    assert ago(seconds=0) == "0s ago"
    assert ago(seconds=42) == "42s ago"
    assert ago(minutes=3, seconds=20) == "3m 20s ago"
    assert ago(hours=2, minutes=5, seconds=9) == "2h 5m ago"
    assert ago(days=3, hours=4) == "3d 4h ago"
    # A clock slightly ahead of ours is not a negative age.
    assert ago(seconds=-5) == "0s ago"
