"""The compliance manager's :class:`~dc_agents.compliance.cloud.Cloud`
over nova's and placement's HTTP APIs.

Servers and moves go through :class:`~dc_agents.compliance.compute.
NovaCompute`; free capacity is read from placement, lazily: only for the
compute nodes the planner considers as destinations, once per sweep.
"""

import collections.abc
import logging

from acaas_nova import exception
from dc_agents.compliance import cloud as cloud_mod
from dc_agents.compliance import errors

LOG = logging.getLogger(__name__)


class _LazyFree(collections.abc.Mapping):
    """NodeKey -> free (vcpus, memory_mb, disk_gb), read on first use."""

    def __init__(self, placement) -> None:
        self._placement = placement
        self._cache: dict = {}

    def __getitem__(self, key):
        if key not in self._cache:
            try:
                rp = self._placement.provider_of(key[1])
                self._cache[key] = self._placement.free_of(rp)
            except (errors.ClientError, exception.NotFound) as exc:
                LOG.warning("No capacity of %s from placement: %s", key, exc)
                self._cache[key] = None
        value = self._cache[key]
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self):
        return iter(k for k, v in self._cache.items() if v is not None)

    def __len__(self):
        return sum(v is not None for v in self._cache.values())


def _server(s) -> cloud_mod.Server:
    return cloud_mod.Server(
        uuid=s.uuid,
        host=s.host,
        node=s.node,
        user_id=s.user_id,
        project_id=s.project_id,
        status=s.status,
        task_state=s.task_state,
        size=(s.vcpus, s.ram, s.disk),
    )


class NovaCloud:
    def __init__(self, compute, placement) -> None:
        self.compute = compute
        self.placement = placement

    def servers(self):
        return [_server(s) for s in self.compute.servers_all()]

    def server(self, uuid):
        try:
            return _server(self.compute.server(uuid))
        except errors.ClientError as exc:
            if "HTTP 404" in exc.message:
                return None
            raise

    def free(self):
        return _LazyFree(self.placement)

    def fence(self, host, event_id):
        self.compute.fence(host, event_id)

    def unfence(self, host):
        return self.compute.unfence(host)

    def migrate(self, uuid, host, live):
        if live:
            self.compute.live_migrate(uuid, host)
        else:
            self.compute.cold_migrate(uuid, host)

    def confirm_move(self, uuid):
        records = self.compute.migrations(uuid)
        if records and records[0].status == "finished":
            self.compute.confirm(uuid)
