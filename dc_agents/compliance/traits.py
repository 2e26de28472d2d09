"""Publishing trust as traits on compute nodes' resource providers.

:class:`PlacementTraits` talks to placement over a keystoneauth Adapter
built from the ``[placement]`` group, at microversion
:data:`MICROVERSION` (1.6 brought traits; 1.37 is enough for everything
here and keeps the answers' shape fixed).

:meth:`PlacementTraits.sync` writes the traits a node should carry
(:func:`acaas_nova.compliance.trait_names.desired_traits`) without ever
touching a trait another writer put there: it reads the provider's traits
and generation, computes ``(current - ours) | desired`` and writes that
with the generation it read.  When someone else wrote in between,
placement answers 409 and the whole read-compute-write is repeated, at most
``[placement] generation_retries`` times.
"""

import logging
from urllib import parse as urlparse

from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from oslo_utils import uuidutils

from acaas_nova import conf as acaas_conf
from acaas_nova.compliance import trait_names
from dc_agents.compliance import errors

LOG = logging.getLogger(__name__)

MICROVERSION = "1.37"


class PlacementTraits:
    """Trait bookkeeping of our own on placement's resource providers."""

    def __init__(self, adapter, retries: int = 5):
        self._adapter = adapter
        self._retries = retries
        #: Custom traits known to exist (placement never deletes them
        #: behind our back while a provider uses them).
        self._known: set[str] = set()

    @classmethod
    def from_conf(cls, conf, session=None, group: str = "placement"):
        acaas_conf.register_client_opts(conf)
        if session is None:
            auth = ks_loading.load_auth_from_conf_options(conf, group)
            session = ks_loading.load_session_from_conf_options(
                conf, group, auth=auth
            )
        opts = conf[group]
        adapter = ks_adapter.Adapter(
            session,
            service_type=opts.service_type,
            service_name=opts.service_name,
            interface=opts.valid_interfaces,
            region_name=opts.region_name,
            endpoint_override=opts.endpoint_override,
            connect_retries=opts.connect_retries,
            raise_exc=False,
        )
        return cls(adapter, retries=conf[group].generation_retries)

    # -- HTTP -------------------------------------------------------------

    def _call(self, method: str, url: str, json=None):
        try:
            response = self._adapter.request(
                url,
                method,
                json=json,
                microversion=MICROVERSION,
                headers={"Accept": "application/json"},
            )
        except ks_exc.ClientException as exc:
            raise errors.Unreachable(
                service="placement", reason="%s %s: %s" % (method, url, exc)
            ) from None
        if response.status_code >= 500:
            raise errors.Unreachable(
                service="placement",
                reason="%s %s: HTTP %d" % (method, url, response.status_code),
            )
        return response

    @staticmethod
    def _refused(method, url, response) -> errors.ClientError:
        try:
            detail = response.json()["errors"][0]["detail"]
        except (ValueError, KeyError, IndexError, TypeError):
            detail = response.text
        detail = (detail or "").strip().splitlines()
        return errors.ClientError(
            service="placement",
            reason="%s %s: HTTP %d %s"
            % (
                method,
                url,
                response.status_code,
                detail[-1] if detail else "",
            ),
        )

    # -- providers ----------------------------------------------------------

    def provider_of(self, node: str) -> str:
        """The uuid of compute node ``node``'s resource provider.

        ``node`` is the compute node's uuid or its hypervisor_hostname (the
        provider's name).
        """
        if uuidutils.is_uuid_like(node):
            response = self._call("GET", "/resource_providers/%s" % node)
            if response.status_code == 200:
                return response.json()["uuid"]
        url = "/resource_providers?name=%s" % urlparse.quote(node, safe="")
        response = self._call("GET", url)
        if response.status_code != 200:
            raise self._refused("GET", "/resource_providers", response)
        found = response.json()["resource_providers"]
        if not found:
            raise errors.ProviderNotFound(node=node)
        return found[0]["uuid"]

    def free_of(self, rp_uuid: str) -> tuple[int, int, int]:
        """Free (VCPU, MEMORY_MB, DISK_GB) of a provider: capacity
        ((total - reserved) x allocation_ratio) minus usage."""
        base = "/resource_providers/%s" % rp_uuid
        inventories = self._call("GET", base + "/inventories")
        usages = self._call("GET", base + "/usages")
        for url, response in (
            ("inventories", inventories),
            ("usages", usages),
        ):
            if response.status_code != 200:
                raise self._refused("GET", base + "/" + url, response)
        inv = inventories.json()["inventories"]
        used = usages.json()["usages"]
        free = []
        for rc in ("VCPU", "MEMORY_MB", "DISK_GB"):
            item = inv.get(rc)
            if item is None:
                free.append(0)
                continue
            capacity = (item["total"] - item.get("reserved", 0)) * item.get(
                "allocation_ratio", 1.0
            )
            free.append(int(capacity) - int(used.get(rc, 0)))
        return tuple(free)

    def ensure_traits(self, names) -> None:
        """Create the custom traits in ``names`` that do not exist yet."""
        for name in sorted(set(names) - self._known):
            if not trait_names.valid(name):
                raise errors.ClientError(
                    service="placement", reason="invalid trait %s" % name
                )
            response = self._call("PUT", "/traits/%s" % name)
            if response.status_code not in (201, 204):
                raise self._refused("PUT", "/traits", response)
            self._known.add(name)

    def traits_of(self, rp_uuid: str) -> tuple[frozenset[str], int]:
        """The provider's traits and generation."""
        url = "/resource_providers/%s/traits" % rp_uuid
        response = self._call("GET", url)
        if response.status_code == 404:
            raise errors.ProviderNotFound(node=rp_uuid)
        if response.status_code != 200:
            raise self._refused("GET", url, response)
        body = response.json()
        return frozenset(body["traits"]), body["resource_provider_generation"]

    def sync(self, rp_uuid: str, desired) -> frozenset[str]:
        """Make our traits on the provider exactly ``desired``.

        Traits that are not ours (:func:`trait_names.owned`) are kept as
        they are.  Returns the provider's traits after the write.
        """
        desired = frozenset(desired)
        foreign = [t for t in desired if not trait_names.owned(t)]
        if foreign:
            raise errors.ClientError(
                service="placement",
                reason="refusing to write traits we do not own: %s"
                % ", ".join(sorted(foreign)),
            )
        self.ensure_traits(desired)
        url = "/resource_providers/%s/traits" % rp_uuid
        for _attempt in range(self._retries):
            current, generation = self.traits_of(rp_uuid)
            kept = {t for t in current if not trait_names.owned(t)}
            wanted = frozenset(kept | desired)
            if wanted == current:
                return current
            response = self._call(
                "PUT",
                url,
                json={
                    "traits": sorted(wanted),
                    "resource_provider_generation": generation,
                },
            )
            if response.status_code == 200:
                LOG.debug(
                    "Traits of provider %(rp)s: %(traits)s",
                    {"rp": rp_uuid, "traits": sorted(wanted)},
                )
                return frozenset(response.json()["traits"])
            if response.status_code == 409:
                LOG.debug("Provider %s changed meanwhile; retrying", rp_uuid)
                continue
            if (
                response.status_code == 400
                and "No such trait" in response.text
            ):
                # Someone deleted a custom trait we created earlier.
                self._known.clear()
                self.ensure_traits(desired)
                continue
            raise self._refused("PUT", url, response)
        raise errors.GenerationConflict(rp=rp_uuid, attempts=self._retries)

    def publish(
        self, node: str, status, whitelists=(), domain=None, location=None
    ) -> frozenset[str]:
        """Sync the traits of compute node ``node`` from its trust record."""
        desired = trait_names.desired_traits(
            status, whitelists, domain, location
        )
        return self.sync(self.provider_of(node), desired)
