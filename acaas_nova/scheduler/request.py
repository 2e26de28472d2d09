"""Turn one nova RequestSpec into a compiled :class:`RequestMatcher`.

Done once per request (per instance of a multi-create), never per host:
read the snapshot (cached by age), resolve the ``acaas:`` requirements of
the hints, the flavor and a referenced stored specification, run the
in-memory isolation look-up, and queue the instance's trust record so that
later requests honour its requirements symmetrically.  The RequestSpec is
only read through its attributes; nothing from nova is imported here.
"""

import dataclasses
import logging
import time
from collections.abc import Mapping

from acaas_nova import exception
from acaas_nova.compliance import stored
from acaas_nova.db import records
from acaas_nova.scheduler import matching
from acaas_nova.scheduler import precedence
from acaas_nova.scheduler import requirements as reqs_mod
from acaas_nova.scheduler import runtime as runtime_mod

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A compiled request, or why the whole request is refused."""

    matcher: matching.RequestMatcher | None
    error: str | None = None


def _field(obj, name, default=None):
    if obj is None:
        return default
    if hasattr(obj, "obj_attr_is_set") and not obj.obj_attr_is_set(name):
        return default
    value = getattr(obj, name, default)
    return default if value is None else value


def _mapping(value, what: str) -> dict:
    if isinstance(value, Mapping):
        return dict(value)
    raise exception.InvalidRequirement(
        key=what, reason="expected a mapping, got %s" % type(value).__name__
    )


def hints_of(spec_obj) -> dict:
    return _mapping(_field(spec_obj, "scheduler_hints", {}), "hints")


def extra_specs_of(spec_obj) -> dict:
    return _mapping(
        _field(_field(spec_obj, "flavor"), "extra_specs", {}),
        "flavor extra specs",
    )


def instance_uuid_of(spec_obj) -> str | None:
    """The instance uuid, or None; never raises (used in error paths)."""
    try:
        return _field(spec_obj, "instance_uuid")
    except Exception:
        return None


def requester_of(spec_obj) -> matching.Requester:
    return matching.Requester(
        user_id=_field(spec_obj, "user_id", ""),
        project_id=_field(spec_obj, "project_id", ""),
        instance_uuid=_field(spec_obj, "instance_uuid"),
    )


def trust_record(
    requester: matching.Requester, reqs: reqs_mod.Requirements
) -> records.InstanceTrust:
    return records.InstanceTrust(
        instance_uuid=requester.instance_uuid or "",
        project_id=requester.project_id,
        user_id=requester.user_id,
        requirement_spec=reqs.requirement,
        exclude_users=tuple(sorted(reqs.exclude_users)),
        exclude_projects=tuple(sorted(reqs.exclude_projects)),
        exclusive=reqs.exclusive,
        requirements=stored.dumps(reqs),
    )


def prepare(
    runtime: runtime_mod.Runtime, spec_obj, record: bool = True
) -> Prepared:
    """Compile the request; errors refuse every host (fail closed).

    :param record: write the instance's trust record (the filter does, so
        that the chapter's RS_ID and isolation wishes persist; explain and
        the weigher do not).
    """
    requester = requester_of(spec_obj)
    try:
        topology = runtime.snapshots.topology()
        reqs = precedence.resolve(
            hints_of(spec_obj),
            extra_specs_of(spec_obj),
            runtime.stored_spec(requester.project_id, requester.user_id),
        )
        blockers = matching.blocking_instances(
            runtime.constraints(
                topology, requester.user_id, requester.project_id
            ),
            requester,
        )
        if record and requester.instance_uuid:
            runtime.record(trust_record(requester, reqs))
    except (exception.Invalid, exception.NotFound) as exc:
        LOG.warning(
            "ACaaS refuses instance %s of project %s: %s",
            requester.instance_uuid,
            requester.project_id,
            exc,
        )
        return Prepared(None, str(exc))
    except exception.ACaaSException as exc:
        LOG.error(
            "ACaaS cannot judge instance %s, refusing every host: %s",
            requester.instance_uuid,
            exc,
        )
        return Prepared(None, str(exc))
    LOG.debug(
        "ACaaS requirements of instance %s: %s (%d blocking instances)",
        requester.instance_uuid,
        reqs_mod.describe(reqs),
        len(blockers),
    )
    matcher = matching.RequestMatcher(
        reqs,
        topology,
        runtime.policy(),
        time.time(),
        requester,
        blockers,
        runtime.exclusive_owners(topology),
    )
    return Prepared(matcher)


_MEMO = "_acaas_prepared"


def remember(spec_obj, prepared: Prepared) -> None:
    """Keep the compiled request on the RequestSpec for the weigher.

    The RequestSpec lives for one scheduling call; the memo is keyed by
    the instance uuid so the next instance of a multi-create recompiles.
    """
    setattr(spec_obj, _MEMO, (_field(spec_obj, "instance_uuid"), prepared))


def recall(spec_obj) -> Prepared | None:
    memo = getattr(spec_obj, _MEMO, None)
    if memo is None or memo[0] != _field(spec_obj, "instance_uuid"):
        return None
    return memo[1]


def source_host(spec_obj, host_states) -> str | None:
    """The host a moving instance is on now, or None for a new server.

    nova lists the instance on its current host; when that host is not a
    candidate (resize to the same host disallowed, evacuation) the request
    names it in ``ignore_hosts``.
    """
    uuid = _field(spec_obj, "instance_uuid")
    if uuid:
        for host_state in host_states:
            if uuid in host_state.instances:
                return host_state.host
    ignored = _field(spec_obj, "ignore_hosts", [])
    return ignored[0] if ignored else None
