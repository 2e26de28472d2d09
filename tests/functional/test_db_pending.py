"""Registrations awaiting approval and declared EKs, on SQLite, MariaDB and
PostgreSQL (acaas_nova/db/pending.py, node_register's refusals)."""

import datetime

import pytest

from acaas_nova import exception
from acaas_nova.db import attestation as attestation_db
from acaas_nova.db import domains as domains_db
from acaas_nova.db import locations as locations_db
from acaas_nova.db import nodes as nodes_db
from acaas_nova.db import pending as pending_db

EK_A = "a" * 64
EK_B = "b" * 64
SOON = datetime.timedelta(hours=1)


@pytest.fixture
def ctx(migrated):
    ctx = migrated[1]
    locations_db.location_create(ctx, "lab")
    domains_db.domain_create(ctx, "rack1", "lab")
    return ctx


def _now():
    return datetime.datetime.now(datetime.UTC)


def _awaiting(host, ek=EK_A, expires=SOON, hv=None, cid=None):
    return pending_db.Awaiting(
        host=host,
        hypervisor_hostname=hv or host,
        ek_fingerprint=ek,
        ek_subject="CN=tpm-" + ek[:4],
        ek_issuer="CN=swtpm-localca",
        cid=cid or "cid-%s-%s" % (host, ek[:4]),
        ak_public=b"\x00\x01ak",
        ak_name="000b" + "11" * 32,
        ak_certificate="PEM",
        attestation_state='{"bank": "sha256"}',
        expires_at=_now() + expires,
        channel_key=b"k" * 32,
    )


def _register(ctx, host, ek):
    return attestation_db.node_register(
        ctx, host, host, "cid-" + host, ek, b"ak", "00", "c", {}
    )


def test_undeclared_host_is_not_registered(ctx):
    with pytest.raises(exception.NotFound):
        _register(ctx, "ghost", EK_A)
    assert attestation_db.registered_nodes(ctx) == []
    assert nodes_db.node_list(ctx) == []


def test_declared_ek_binds_the_node(ctx):
    nodes_db.node_create(ctx, "n1", expected_ek_fingerprint=EK_A.upper())
    assert nodes_db.node_get(ctx, "n1").expected_ek_fingerprint == EK_A
    with pytest.raises(exception.UndeclaredEK, match="declared with another"):
        _register(ctx, "n1", EK_B)
    reg = attestation_db.registration_get(ctx, "n1")
    assert not reg.registered and reg.ek_fingerprint is None
    assert _register(ctx, "n1", EK_A).registered
    with pytest.raises(exception.Invalid, match="64 hex digits"):
        nodes_db.node_create(ctx, "n2", expected_ek_fingerprint="abc")
    with pytest.raises(exception.NotFound):
        nodes_db.node_get(ctx, "n2")


def test_store_list_replace_and_bound(ctx):
    pending_db.pending_store(ctx, _awaiting("p1"), limit=2)
    # The same (host, EK) again replaces the earlier one.
    pending_db.pending_store(ctx, _awaiting("p1"), limit=2)
    pending_db.pending_store(ctx, _awaiting("p1", EK_B), limit=2)
    listed = pending_db.pending_list(ctx)
    assert [(p.host, p.ek_fingerprint) for p in listed] == [
        ("p1", EK_A),
        ("p1", EK_B),
    ]
    assert listed[0].ek_subject == "CN=tpm-aaaa"
    assert listed[0].ek_issuer == "CN=swtpm-localca"
    with pytest.raises(exception.Conflict, match="max_awaiting_approval"):
        pending_db.pending_store(ctx, _awaiting("p2"), limit=2)
    assert len(pending_db.pending_list(ctx)) == 2
    # Nothing pending made a node attestable.
    assert attestation_db.registered_nodes(ctx) == []


def test_expired_are_not_listed_and_are_purged(ctx):
    pending_db.pending_store(
        ctx, _awaiting("old", expires=-datetime.timedelta(seconds=1)), 1
    )
    assert pending_db.pending_list(ctx) == []
    with pytest.raises(exception.NotFound):
        pending_db.pending_approve(ctx, "old")
    # The expired row does not count against the bound: purged.
    pending_db.pending_store(ctx, _awaiting("new"), limit=1)
    assert [p.host for p in pending_db.pending_list(ctx)] == ["new"]


def test_store_refuses_an_ek_registered_as_another_node(ctx):
    nodes_db.node_create(ctx, "n1")
    _register(ctx, "n1", EK_A)
    with pytest.raises(exception.Conflict, match="already registered"):
        pending_db.pending_store(
            ctx, _awaiting("other", EK_A, cid="cid-n1"), 10
        )


def test_approve_registers_and_binds(ctx):
    pending_db.pending_store(ctx, _awaiting("p1"), 10)
    node, approved = pending_db.pending_approve(ctx, "p1", domain="rack1")
    assert approved.ek_fingerprint == EK_A
    assert approved.ek_subject == "CN=tpm-aaaa"
    assert node.domain == "rack1" and node.status == "unknown"
    assert node.expected_ek_fingerprint == EK_A == node.ek_fingerprint
    reg = attestation_db.registration_get(ctx, "p1")
    assert reg.registered and reg.cid == "cid-p1-aaaa"
    assert reg.ak_public == b"\x00\x01ak"
    assert reg.channel_key == b"k" * 32
    assert reg.state == {"bank": "sha256"}
    assert attestation_db.registered_nodes(ctx) == [("p1", "p1")]
    assert pending_db.pending_list(ctx) == []
    # Its DC-C's first message under the approved key is accepted.
    assert attestation_db.channel_accept(
        ctx, "p1", "p1", reg.cid, b"k" * 32, 1
    )


def test_approve_ambiguous_needs_the_fingerprint(ctx):
    pending_db.pending_store(ctx, _awaiting("p1"), 10)
    pending_db.pending_store(ctx, _awaiting("p1", EK_B), 10)
    with pytest.raises(exception.Invalid, match="--ek-fingerprint"):
        pending_db.pending_approve(ctx, "p1")
    with pytest.raises(exception.NotFound):
        pending_db.pending_approve(ctx, "p1", ek_fingerprint="c" * 64)
    assert len(pending_db.pending_list(ctx)) == 2
    node, _ = pending_db.pending_approve(ctx, "p1", ek_fingerprint=EK_B)
    assert node.ek_fingerprint == EK_B
    # The other EK's registration can never be approved: dropped.
    assert pending_db.pending_list(ctx) == []


def test_approve_refuses_another_ek_of_a_known_name(ctx):
    nodes_db.node_create(ctx, "reg")
    _register(ctx, "reg", EK_A)
    pending_db.pending_store(ctx, _awaiting("reg", EK_B), 10)
    with pytest.raises(exception.Conflict, match="registered with another"):
        pending_db.pending_approve(ctx, "reg")
    assert attestation_db.registration_get(ctx, "reg").ek_fingerprint == EK_A
    nodes_db.node_create(ctx, "bound", expected_ek_fingerprint=EK_A)
    pending_db.pending_store(ctx, _awaiting("bound", EK_B), 10)
    with pytest.raises(exception.UndeclaredEK):
        pending_db.pending_approve(ctx, "bound")
    assert not attestation_db.registration_get(ctx, "bound").registered
    assert len(pending_db.pending_list(ctx)) == 2


def test_approve_onto_a_declared_name_and_rollback(ctx):
    # Declared (no EK) after the DC-C registered: approval binds the EK.
    pending_db.pending_store(ctx, _awaiting("late"), 10)
    nodes_db.node_create(ctx, "late")
    node, _ = pending_db.pending_approve(ctx, "late")
    assert node.registered_at and node.expected_ek_fingerprint == EK_A
    # An unknown domain: nothing is written, the registration still waits.
    pending_db.pending_store(ctx, _awaiting("p2", EK_B), 10)
    with pytest.raises(exception.NotFound, match="Domain nope"):
        pending_db.pending_approve(ctx, "p2", domain="nope")
    with pytest.raises(exception.NotFound):
        nodes_db.node_get(ctx, "p2")
    assert [p.host for p in pending_db.pending_list(ctx)] == ["p2"]


def test_reject(ctx):
    pending_db.pending_store(ctx, _awaiting("p1"), 10)
    pending_db.pending_store(ctx, _awaiting("p1", EK_B), 10)
    pending_db.pending_store(ctx, _awaiting("p2"), 10)
    dropped = pending_db.pending_reject(ctx, "p1", ek_fingerprint=EK_B)
    assert [p.ek_fingerprint for p in dropped] == [EK_B]
    dropped = pending_db.pending_reject(ctx, "p1")
    assert [p.ek_fingerprint for p in dropped] == [EK_A]
    with pytest.raises(exception.NotFound):
        pending_db.pending_reject(ctx, "p1")
    assert [p.host for p in pending_db.pending_list(ctx)] == ["p2"]
    with pytest.raises(exception.NotFound):
        nodes_db.node_get(ctx, "p1")
