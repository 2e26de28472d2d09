"""Every DC-S worker down for longer than ``[acaas] attestation_ttl``.

nova's in-process cloud (tests/functional/nova_cloud.py): real API,
conductor, scheduler with our filter, placement.  Every host is trusted
and carries ``CUSTOM_ACAAS_TRUSTED`` in placement, published by DC-S's
own placement client; the flavor requires the trait.  Then no DC-S
attests any more: the records keep their ``trusted`` status with a last
attestation older than the TTL (what dead workers leave behind) and the
traits stay, for placement traits have no expiry.  The filter refuses
every host, so nothing is booted on a node nobody vouches for now; when
attestation resumes, scheduling does too (nothing lost, nothing wrongly
trusted).
"""

from acaas_nova.compliance import trait_names as tn
from tests.functional import compliance_cloud
from tests.functional import nova_cloud


class AllWorkersDownTestCase(compliance_cloud.ComplianceCloudTestCase):
    def _publish_all(self):
        for host, (domain, whitelists, _props) in nova_cloud.HOSTS.items():
            location = "US" if domain == "em-us" else domain[:2].upper()
            self.traits.publish(host, "trusted", whitelists, domain, location)

    def _has_trusted_trait(self, host):
        rp = self._get_provider_uuid_by_host(host)
        return tn.TRUSTED in self._get_provider_traits(rp)

    def test_stale_records_refused_although_placement_says_trusted(self):
        self._publish_all()
        flavor = self.flavor_with({"trait:%s" % tn.TRUSTED: "required"})
        # With DC-S alive, the trait-requiring flavor boots.
        server = self.boot(flavor_id=flavor)
        self.assertIn(self.host_of(server), nova_cloud.HOSTS)
        # Every worker down for longer than the TTL: the records age.
        ttl = nova_cloud.CONF.acaas.attestation_ttl
        for host in nova_cloud.HOSTS:
            self.set_trust(host, "trusted", age=ttl + 60)
        self.assertTrue(all(map(self._has_trusted_trait, nova_cloud.HOSTS)))
        refused = self.boot(flavor_id=flavor, expected_state="ERROR")
        self.assert_no_valid_host(refused)
        # Also without the trait in the flavor: the filter decides.
        self.assert_no_valid_host(self.boot(expected_state="ERROR"))
        # Placement still says trusted: only the filter's fail-closed
        # check kept the servers off.
        self.assertTrue(all(map(self._has_trusted_trait, nova_cloud.HOSTS)))
        # Nothing lost: attestation resumes on one host, it is used.
        self.set_trust("host4", "trusted")
        again = self.boot(flavor_id=flavor)
        self.assertEqual("host4", self.host_of(again))
        self.assertEqual(
            "ACTIVE", self.admin_api.get_server(server["id"])["status"]
        )
