"""Node ownership between DC-S workers and shared registration challenges,
on SQLite, MariaDB and PostgreSQL."""

import datetime
import threading

import pytest

from acaas_nova import context as acaas_context
from acaas_nova import exception
from acaas_nova.db import attestation as attestation_db
from acaas_nova.db import challenges as challenges_db
from acaas_nova.db import nodes as nodes_db
from acaas_nova.db import ownership
from acaas_nova.db import pending as pending_db
from acaas_nova.db import records
from dc_agents.dcs import dbwrite
from tests.functional.test_db_pending import _awaiting

NOW = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def ctx(migrated):
    yield migrated[1]
    ownership.configure(None)


def _register(ctx, host):
    nodes_db.node_create(ctx, host, host)
    attestation_db.node_register(
        ctx, host, host, "cid-" + host, "ek-" + host, b"ak", "00", "c", {}
    )
    return (host, host)


def _trusted(ctx, key):
    return attestation_db.attestation_save(
        ctx, *key, "cid-" + key[0], records.TRUST_TRUSTED, {}, "r", (), NOW
    )


def test_claim_takes_unowned_registered_nodes(ctx):
    a, b = _register(ctx, "h1"), _register(ctx, "h2")
    unregistered = ("h3", "h3")
    got = ownership.nodes_claim(ctx, [a, b, unregistered], "w1", ["w1"])
    assert got == {a, b}
    assert ownership.node_owners(ctx) == {a: "w1", b: "w1"}


def test_claim_fails_while_the_owner_is_alive(ctx):
    a = _register(ctx, "h1")
    assert ownership.nodes_claim(ctx, [a], "w1", ["w1", "w2"]) == {a}
    assert ownership.nodes_claim(ctx, [a], "w2", ["w1", "w2"]) == set()
    assert ownership.node_owners(ctx)[a] == "w1"
    # Claiming one's own node again succeeds and changes nothing.
    assert ownership.nodes_claim(ctx, [a], "w1", ["w1", "w2"]) == {a}


def test_claim_takes_over_from_a_dead_owner(ctx):
    a = _register(ctx, "h1")
    ownership.nodes_claim(ctx, [a], "w1", ["w1", "w2"])
    assert ownership.nodes_claim(ctx, [a], "w2", ["w2"]) == {a}
    assert ownership.node_owners(ctx)[a] == "w2"


def test_release_lets_a_live_worker_claim(ctx):
    a, b = _register(ctx, "h1"), _register(ctx, "h2")
    ownership.nodes_claim(ctx, [a, b], "w1", ["w1", "w2"])
    assert ownership.nodes_release(ctx, [a, b], "w2") == 0
    assert ownership.nodes_release(ctx, [a], "w1") == 1
    assert ownership.nodes_claim(ctx, [a, b], "w2", ["w1", "w2"]) == {a}


def test_many_nodes_in_chunks(ctx):
    keys = [_register(ctx, "n%04d" % i) for i in range(ownership.CHUNK + 7)]
    assert ownership.nodes_claim(ctx, keys, "w1", ["w1"]) == set(keys)
    assert ownership.nodes_release(ctx, keys, "w1") == len(keys)


def test_only_the_owner_records_an_attestation(ctx):
    a = _register(ctx, "h1")
    ownership.nodes_claim(ctx, [a], "w1", ["w1", "w2"])
    ownership.configure("w2")
    assert _trusted(ctx, a) is None
    assert attestation_db.registration_get(ctx, *a).status == "unknown"
    ownership.configure("w1")
    assert _trusted(ctx, a) is not None
    assert attestation_db.registration_get(ctx, *a).status == "trusted"


def test_touch_is_guarded_by_owner(ctx):
    a = _register(ctx, "h1")
    ownership.nodes_claim(ctx, [a], "w1", ["w1"])
    ownership.configure("w1")
    _trusted(ctx, a)
    later = NOW + datetime.timedelta(seconds=5)
    ownership.configure("w2")
    assert not attestation_db.attestation_touch(
        ctx, *a, "cid-h1", {"n": 1}, later
    )
    ownership.configure("w1")
    assert attestation_db.attestation_touch(ctx, *a, "cid-h1", {"n": 1}, later)
    reg = attestation_db.registration_get(ctx, *a)
    assert reg.state == {"n": 1}
    assert reg.last_attested_at == later


def test_any_worker_may_revoke(ctx):
    a = _register(ctx, "h1")
    ownership.nodes_claim(ctx, [a], "w1", ["w1", "w2"])
    ownership.configure("w2")
    saved = attestation_db.attestation_save(
        ctx, *a, "cid-h1", records.TRUST_UNTRUSTED, revoke=True
    )
    assert saved is not None
    reg = attestation_db.registration_get(ctx, *a)
    assert reg.status == "untrusted" and not reg.registered


def test_no_guard_without_coordination(ctx):
    a = _register(ctx, "h1")
    ownership.nodes_claim(ctx, [a], "w1", ["w1"])
    ownership.configure(None)
    assert _trusted(ctx, a) is not None


def _pending(session, host="h1", seconds=60):
    return challenges_db.PendingChallenge(
        session=session,
        host=host,
        hypervisor_hostname=host,
        cid="cid",
        ek_fingerprint="fp",
        ek_public=b"\x01\x02",
        ak_public=b"\x03",
        ak_name=b"\x00\x0b",
        secret_digest=b"\xff" * 32,
        expires_at=datetime.datetime.now(datetime.UTC)
        + datetime.timedelta(seconds=seconds),
    )


def test_challenge_is_taken_once_by_its_node(ctx):
    challenges_db.challenge_create(ctx, _pending("s1"))
    assert challenges_db.challenge_take(ctx, "s1", "h2", "h2") is None
    taken = challenges_db.challenge_take(ctx, "s1", "h1", "h1")
    assert taken.ek_public == b"\x01\x02"
    assert taken.secret_digest == b"\xff" * 32
    assert taken.ak_name == b"\x00\x0b"
    assert challenges_db.challenge_take(ctx, "s1", "h1", "h1") is None


def test_expired_challenge_is_refused_and_purged(ctx):
    challenges_db.challenge_create(ctx, _pending("old", seconds=-1))
    assert challenges_db.challenge_take(ctx, "old", "h1", "h1") is None
    challenges_db.challenge_create(ctx, _pending("old2", seconds=-1))
    challenges_db.challenge_create(ctx, _pending("new"))
    assert challenges_db.challenge_take(ctx, "old2", "h1", "h1") is None
    assert challenges_db.challenge_take(ctx, "new", "h1", "h1") is not None


def test_a_node_has_one_pending_challenge_its_latest(ctx):
    challenges_db.challenge_create(ctx, _pending("s1"))
    challenges_db.challenge_create(ctx, _pending("s2"))
    assert challenges_db.challenge_take(ctx, "s1", "h1", "h1") is None
    assert challenges_db.challenge_take(ctx, "s2", "h1", "h1") is not None


def test_pending_challenges_are_bounded_in_all(ctx):
    for i in range(5):
        challenges_db.challenge_create(
            ctx, _pending("s%d" % i, host="h%d" % i), limit=5
        )
    with pytest.raises(exception.Conflict) as err:
        challenges_db.challenge_create(ctx, _pending("s9", "h9"), limit=5)
    assert "max_pending_registrations" in err.value.message
    assert challenges_db.challenge_take(ctx, "s9", "h9", "h9") is None
    # A node replacing its own challenge is not one more.
    challenges_db.challenge_create(ctx, _pending("s0b", host="h0"), limit=5)
    # Taken or expired ones make room again.
    assert challenges_db.challenge_take(ctx, "s1", "h1", "h1") is not None
    challenges_db.challenge_create(ctx, _pending("s9", "h9"), limit=5)


@pytest.mark.parametrize("create", ["challenge", "awaiting"])
def test_concurrent_registrations_do_not_deadlock(migrated, create):
    """Several DC-S workers store challenges (and registrations awaiting
    approval) at once, each purging expired rows on the way.  Purges
    that locked index ranges made MariaDB pick deadlock victims, and the
    registration failed with a database error (seen in test_dcs_workers:
    an agent exited); every one must now succeed."""
    conf, ctx = migrated
    dbwrite.configure(conf)  # as DC-S does: on SQLite, one writer
    for i in range(4):
        challenges_db.challenge_create(
            ctx, _pending("old%d" % i, host="o%d" % i, seconds=-1)
        )
    failures = []

    def register(worker):
        wctx = acaas_context.get_admin_context()
        for i in range(15):
            host = "w%d-%d" % (worker, i)
            try:
                with dbwrite.writing():
                    _create(wctx, host)
            except exception.ACaaSException as exc:
                failures.append("%s: %s" % (host, exc.message))

    def _create(wctx, host):
        # Each taken (or rejected) at once, as registrations complete:
        # the table stays nearly empty, so purges lock up to its end.
        if create == "challenge":
            challenges_db.challenge_create(
                wctx, _pending("%s-s" % host, host=host), limit=1000
            )
            assert challenges_db.challenge_take(
                wctx, "%s-s" % host, host, host
            )
        else:
            pending_db.pending_store(wctx, _awaiting(host), 1000)
            pending_db.pending_reject(wctx, host)

    threads = [threading.Thread(target=register, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures, failures[:3]
