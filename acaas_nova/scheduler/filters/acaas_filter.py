"""ACaaSFilter: place instances only on attested hosts that meet the
tenant's ``acaas:`` requirements (the chapter's ACaaS scheduler, §12.3.3).

Enable in nova.conf::

    [filter_scheduler]
    available_filters = nova.scheduler.filters.all_filters
    available_filters = acaas_nova.scheduler.filters.acaas_filter.ACaaSFilter
    enabled_filters = ...,ACaaSFilter

The decision is made by the pure :mod:`acaas_nova.scheduler.matching`; this
class only adapts nova's objects.  Per request (per instance of a
multi-create) it reads the cached snapshot, runs one in-memory isolation
look-up and queues the instance's trust record for the background writer
(see :mod:`acaas_nova.scheduler.recorder`); per host it does dictionary
look-ups and no I/O.  A host acaas-nova has no record of passes only when
attestation is not required and the request needs nothing it lacks
(:func:`acaas_nova.scheduler.matching.lacking_needs`).

``RUN_ON_REBUILD = True``: a rebuild with a new image puts new software on
the host, so the host must still be trusted and still meet the instance's
requirements.  On a host that turned untrusted nova refuses the rebuild: it
rolls the image back and flags the instance ERROR (it keeps running its old
image) rather than deploying new software onto an untrusted host.
"""

import logging

import nova.conf
from nova.scheduler import filters

from acaas_nova.scheduler import owners
from acaas_nova.scheduler import request
from acaas_nova.scheduler import runtime as runtime_mod

LOG = logging.getLogger(__name__)


class ACaaSFilter(filters.BaseHostFilter):
    """Trust- and requirement-aware host filter."""

    RUN_ON_REBUILD = True
    # Each instance of a multi-create is recorded and isolated on its own.
    run_filter_once_per_request = False

    def __init__(self, runtime: runtime_mod.Runtime | None = None) -> None:
        super().__init__()
        self._runtime = runtime

    @property
    def runtime(self) -> runtime_mod.Runtime:
        # Created on first use: nova instantiates filters before some
        # tests override options.
        if self._runtime is None:
            self._runtime = runtime_mod.get(nova.conf.CONF)
        return self._runtime

    def prepare(self, spec_obj) -> request.Prepared:
        """Compile the request once and keep it on the RequestSpec.

        The weigher reuses it; a new instance uuid (next instance of a
        multi-create, or a later move) compiles again.
        """
        prepared = request.prepare(self.runtime, spec_obj)
        request.remember(spec_obj, prepared)
        return prepared

    def filter_all(self, filter_obj_list, spec_obj):
        """The hosts that pass, judged with one compiled request.

        Never raises: a defect of ours or input nobody foresaw refuses
        every host of this request (fail closed) with one error logged,
        instead of failing nova's scheduling call.
        """
        hosts = list(filter_obj_list)
        try:
            return self._filter_all(hosts, spec_obj)
        except Exception as exc:
            LOG.error(
                "ACaaSFilter failed (%s: %.200s); refusing every host for "
                "instance %s",
                type(exc).__name__,
                exc,
                request.instance_uuid_of(spec_obj),
            )
            LOG.debug("ACaaSFilter failure", exc_info=True)
            return []

    def _filter_all(self, hosts, spec_obj):
        prepared = self.prepare(spec_obj)
        debug = LOG.isEnabledFor(logging.DEBUG)
        matcher = prepared.matcher
        if matcher is None:
            if debug:
                for host_state in hosts:
                    self._log_rejection(host_state, prepared.error)
            return []
        # matcher.passes() inlined: this loop runs for every host.
        deadline_of = matcher.expiry.get
        now = matcher.now
        # Hosts acaas-nova has no record of (attestation not required).
        unrecorded = matcher.unrecorded_ok
        known = matcher.topology.nodes
        candidates = []
        for host_state in hosts:
            key = (host_state.host, host_state.nodename)
            deadline = deadline_of(key)
            if deadline is not None and now <= deadline:
                candidates.append(host_state)
            elif unrecorded and deadline is None and key not in known:
                candidates.append(host_state)
            elif debug:
                self._log_rejection(host_state, matcher.node_reason(key))
        if not matcher.checks_occupants:
            return candidates
        return self._isolate(matcher, candidates, debug)

    def _isolate(self, matcher, candidates, debug: bool) -> list:
        """Isolation checks on the hosts that passed everything else."""
        runtime = self.runtime
        own = matcher.requester.instance_uuid if matcher.requester else None
        empty: set[str] = set()
        found = []
        unknown_hosts = []
        for host_state in candidates:
            if matcher.wants_owners:
                summary = owners.summarize(runtime, host_state.instances, own)
                if summary[2] is not None:
                    unknown_hosts.append(host_state)
            else:
                # Only the symmetric half: uuids suffice.
                summary = (empty, empty, None)
            found.append((host_state, summary))
        if unknown_hosts:
            # One batched look-up for owners nova does not carry.
            owners.fill(runtime, unknown_hosts)
            found = [
                (hs, owners.summarize(runtime, hs.instances, own))
                for hs in candidates
            ]
        passed = []
        for host_state, (users, projects, unknown) in found:
            reason = matcher.occupant_reason(
                host_state.instances.keys(), users, projects, unknown
            )
            if reason is None:
                passed.append(host_state)
            elif debug:
                self._log_rejection(host_state, reason)
        return passed

    @staticmethod
    def _log_rejection(host_state, reason: str) -> None:
        LOG.debug(
            "%s (%s) fails ACaaSFilter: %s",
            host_state.host,
            host_state.nodename,
            reason,
        )

    def host_passes(self, host_state, spec_obj) -> bool:
        """nova's per-host interface (filter_all is what nova calls)."""
        return bool(self.filter_all([host_state], spec_obj))
