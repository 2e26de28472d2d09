"""Trait names: placement's alphabet, injective mapping, desired sets."""

import pytest

from acaas_nova.compliance import trait_names as tn


@pytest.mark.parametrize(
    ("name", "trait"),
    [
        ("gold", "CUSTOM_ACAAS_WL_GOLD"),
        ("uk-a", "CUSTOM_ACAAS_WL_UK_A"),
        ("wl2-x-9", "CUSTOM_ACAAS_WL_WL2_X_9"),
    ],
)
def test_plain_names_read_as_themselves(name, trait):
    assert tn.whitelist_trait(name) == trait
    assert tn.valid(trait)


@pytest.mark.parametrize(
    "name",
    ["Gold", "GOLD", "uk_a", "wl.v2", "a@b:c/d", "-x", "x-", "a--b", "ü"],
)
def test_other_names_get_a_hash_suffix_and_stay_valid(name):
    trait = tn.domain_trait(name)
    assert tn.valid(trait), trait
    assert trait.startswith(tn.DOMAIN_PREFIX)
    assert "__" in trait[len(tn.DOMAIN_PREFIX) :]
    assert tn.domain_trait(name) == trait  # deterministic


def test_names_that_normalise_alike_stay_apart():
    names = ["uk-a", "uk_a", "UK-A", "Uk-a", "uk.a", "uk--a", "UK_A"]
    traits = {tn.location_trait(n) for n in names}
    assert len(traits) == len(names)


def test_plain_and_suffixed_names_cannot_collide():
    # A plain name never yields "__", so it cannot imitate a suffixed one.
    suffixed = tn.whitelist_trait("gold.")
    body = suffixed[len(tn.WHITELIST_PREFIX) :].lower().replace("_", "-")
    assert tn.whitelist_trait(body) != suffixed


def test_overlength_names_are_cut_deterministically():
    long_a = "a" * 250
    long_b = "a" * 249 + "b"
    ta, tb = tn.domain_trait(long_a), tn.domain_trait(long_b)
    assert len(ta) == tn.MAX_LENGTH and len(tb) == tn.MAX_LENGTH
    assert ta != tb
    assert tn.valid(ta) and tn.valid(tb)
    # A plain name that just fits is kept whole.
    fits = "a" * (tn.MAX_LENGTH - len(tn.DOMAIN_PREFIX))
    assert tn.domain_trait(fits) == tn.DOMAIN_PREFIX + fits.upper()


def test_empty_name_is_refused():
    with pytest.raises(ValueError):
        tn.whitelist_trait("")


def test_desired_traits_of_a_trusted_node():
    got = tn.desired_traits("trusted", ["gold", "silver"], "uk-a", "UK")
    assert got == frozenset(
        {
            "CUSTOM_ACAAS_TRUSTED",
            "CUSTOM_ACAAS_WL_GOLD",
            "CUSTOM_ACAAS_WL_SILVER",
            "CUSTOM_ACAAS_DOMAIN_UK_A",
            tn.location_trait("UK"),
        }
    )
    assert all(tn.owned(t) and tn.valid(t) for t in got)


def test_trusted_node_without_domain_has_only_trust_traits():
    assert tn.desired_traits("trusted", ["gold"]) == frozenset(
        {"CUSTOM_ACAAS_TRUSTED", "CUSTOM_ACAAS_WL_GOLD"}
    )


@pytest.mark.parametrize("status", ["untrusted", "unknown", "revoked", ""])
def test_a_node_that_is_not_trusted_has_no_traits(status):
    assert tn.desired_traits(status, ["gold"], "uk-a", "UK") == frozenset()


def test_owned():
    assert tn.owned("CUSTOM_ACAAS_TRUSTED")
    assert tn.owned("CUSTOM_ACAAS_WL_GOLD")
    assert not tn.owned("CUSTOM_GPU")
    assert not tn.owned("HW_CPU_X86_AVX2")
    assert not tn.owned("CUSTOM_ACAASX")


def test_valid():
    assert tn.valid("CUSTOM_X_1")
    assert not tn.valid("CUSTOM_x")
    assert not tn.valid("HW_CPU")
    assert not tn.valid("CUSTOM_" + "A" * 249)
