"""ACaaSWeigher: prefer requested locations, then nearer ones; for moves,
the source host's physical domain, then its backup domains by priority.

Enable in nova.conf::

    [filter_scheduler]
    weight_classes = nova.scheduler.weights.all_weighers
    weight_classes = acaas_nova.scheduler.weighers.acaas_weigher.ACaaSWeigher

The order comes from the pure :mod:`acaas_nova.scheduler.weighing`; the
multiplier is ``[acaas] weight_multiplier``.
"""

import logging

import nova.conf
from nova.scheduler import weights

from acaas_nova.scheduler import request
from acaas_nova.scheduler import runtime as runtime_mod
from acaas_nova.scheduler import topology as topo_mod
from acaas_nova.scheduler import weighing

LOG = logging.getLogger(__name__)


class ACaaSWeigher(weights.BaseHostWeigher):
    """Location, distance and collaborating-domain preference."""

    def __init__(self, runtime: runtime_mod.Runtime | None = None) -> None:
        super().__init__()
        self._runtime = runtime
        self._multiplier: float | None = None

    @property
    def runtime(self) -> runtime_mod.Runtime:
        if self._runtime is None:
            self._runtime = runtime_mod.get(nova.conf.CONF)
        return self._runtime

    def weight_multiplier(self, host_state) -> float:
        # Read once per request in weigh_objects: an oslo.config look-up
        # per host would cost more than the weighing itself.
        if self._multiplier is None:
            self._multiplier = self.runtime.conf.acaas.weight_multiplier
        return self._multiplier

    def preference(self, host_states, spec_obj) -> weighing.Preference:
        """Compile the request's preference once for all hosts."""
        prepared = request.recall(spec_obj)
        if prepared is None:
            prepared = request.prepare(self.runtime, spec_obj, record=False)
        if prepared.matcher is None:
            # Refused (every host weighs the same); no database read here.
            return weighing.Preference(topo_mod.empty_topology())
        topology = prepared.matcher.topology
        source = request.source_host(spec_obj, host_states)
        source_domain = None
        if source is not None:
            source_domain = topology.host_domains.get(source)
        LOG.debug(
            "ACaaSWeigher: instance %s source host %s domain %s",
            spec_obj.instance_uuid,
            source,
            source_domain,
        )
        return weighing.Preference(
            topology,
            prepared.matcher.reqs.preferred_locations,
            source_domain,
        )

    def weigh_objects(self, weighed_obj_list, weight_properties):
        hosts = [w.obj for w in weighed_obj_list]
        self._multiplier = self.runtime.conf.acaas.weight_multiplier
        score = self.preference(hosts, weight_properties).score
        return [score((h.host, h.nodename)) for h in hosts]

    def _weigh_object(self, host_state, weight_properties) -> float:
        """Single-host form (nova calls weigh_objects)."""
        pref = self.preference([host_state], weight_properties)
        return pref.score((host_state.host, host_state.nodename))
