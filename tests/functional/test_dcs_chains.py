"""DC-S's database side on SQLite, MariaDB and PostgreSQL: registration
records, attestation outcomes, domain chains of trust and membership."""

import pytest

from acaas_nova import exception
from acaas_nova.attestation import chain
from acaas_nova.db import attestation as attestation_db
from acaas_nova.db import domains as domains_db
from acaas_nova.db import locations as locations_db
from acaas_nova.db import nodes as nodes_db
from dc_agents import errors
from dc_agents.dcs import chains
from dc_agents.dcs import state as state_mod

GOOD = chain.WhitelistRef("good", "1", "f1")
OTHER = chain.WhitelistRef("other", "1", "f2")


def _register(ctx, host, ek="ek", satisfied=(GOOD,), trusted=True):
    st = state_mod.NodeState(
        boot_pcrs={i: bytes(32) for i in range(8)},
        satisfied=frozenset(satisfied),
    )
    nodes_db.node_create(ctx, host, host)
    attestation_db.node_register(
        ctx,
        host,
        host,
        "cid-" + host,
        ek + host,
        b"\x00\x01public",
        "000b" + "11" * 32,
        "PEM",
        state_mod.dump(state_mod.NodeState()),
    )
    if trusted:
        saved = attestation_db.attestation_save(
            ctx,
            host,
            host,
            "cid-" + host,
            "trusted",
            state_mod.dump(st),
            "rcot",
            [r.name for r in satisfied],
        )
        assert saved == (True, None)


@pytest.fixture
def ctx(migrated):
    _conf, ctx = migrated
    locations_db.location_create(ctx, "lab")
    domains_db.domain_create(ctx, "rack1", "lab", capabilities={"gpu": "yes"})
    domains_db.domain_create(ctx, "rack2", "lab", capabilities={"gpu": "yes"})
    domains_db.backup_add(ctx, "rack2", "rack1", 1)
    return ctx


def test_registration_records(ctx):
    _register(ctx, "n1", trusted=False)
    reg = attestation_db.registration_get(ctx, "n1")
    assert reg.registered and reg.status == "unknown"
    assert reg.ak_public == b"\x00\x01public"
    assert attestation_db.registered_nodes(ctx) == [("n1", "n1")]
    # Another EK for the same node, or the same EK for another node.
    with pytest.raises(exception.Conflict, match="another EK"):
        attestation_db.node_register(
            ctx, "n1", "n1", "cid-x", "ek-other", b"p", "n", "c", {}
        )
    nodes_db.node_create(ctx, "n2", "n2")
    with pytest.raises(exception.Conflict, match="already registered"):
        attestation_db.node_register(
            ctx, "n2", "n2", "cid-n1", "ekn2", b"p", "n", "c", {}
        )
    # An outcome for a stale registration is not written.
    assert (
        attestation_db.attestation_save(ctx, "n1", "n1", "old", "trusted")
        is None
    )
    changed, domain = attestation_db.attestation_save(
        ctx, "n1", "n1", "cid-n1", "untrusted", revoke=True
    )
    assert changed and domain is None
    reg = attestation_db.registration_get(ctx, "n1")
    assert not reg.registered and reg.ek_fingerprint == "ekn1"
    assert attestation_db.registered_nodes(ctx) == []


def test_membership_and_chains(ctx):
    _register(ctx, "n1", satisfied=(GOOD, OTHER))
    nodes_db.property_add(ctx, "n1", "n1", "gpu", "yes")
    chains.add_node(ctx, "n1", "n1", "rack1")
    rack1 = domains_db.domain_get(ctx, "rack1")
    assert rack1.hosts == ("n1",) and rack1.dcot
    # rack2 has no members: its CDCoT (with rack1) is undefined.
    assert domains_db.domain_get(ctx, "rack2").cdcot is None

    # Lacking a capability.
    _register(ctx, "n2", satisfied=(GOOD, OTHER))
    with pytest.raises(errors.MembershipRefused, match="capability gpu"):
        chains.add_node(ctx, "n2", "n2", "rack1")
    # Not satisfying every white-list the members share.
    _register(ctx, "n3", satisfied=(GOOD,))
    nodes_db.property_add(ctx, "n3", "n3", "gpu", "yes")
    with pytest.raises(errors.MembershipRefused, match="other/1"):
        chains.add_node(ctx, "n3", "n3", "rack1")
    # Not trusted.
    _register(ctx, "n4", trusted=False)
    with pytest.raises(errors.MembershipRefused, match="unknown"):
        chains.add_node(ctx, "n4", "n4", "rack1")
    assert domains_db.domain_get(ctx, "rack1").hosts == ("n1",)

    # A second domain of the same class: same DCoT, CDCoT defined.
    chains.add_node(ctx, "n3", "n3", "rack2")
    rack2 = domains_db.domain_get(ctx, "rack2")
    assert rack2.dcot and rack2.cdcot
    # n1 turns untrusted: rack1's DCoT and rack2's CDCoT become undefined.
    attestation_db.attestation_save(
        ctx, "n1", "n1", "cid-n1", "untrusted", revoke=True
    )
    chains.recompute(ctx, "rack1")
    assert domains_db.domain_get(ctx, "rack1").dcot is None
    assert domains_db.domain_get(ctx, "rack2").cdcot is None
    assert domains_db.domain_get(ctx, "rack2").dcot == rack2.dcot
