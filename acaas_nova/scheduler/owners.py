"""Owners (user, project) of the instances nova says are on each host.

Symmetric isolation must also hold for instances that existed before
acaas-nova was installed, so owners come from nova itself: the Instance
objects in ``HostState.instances`` carry ``user_id``/``project_id`` when the
scheduler learnt them from compute updates or its start-up scan.  When nova
only knows uuids (``track_instance_changes`` off), the missing owners are
read in one batched query per cell per request, never one per host, and
cached (an instance never changes owner).
"""

import logging

from acaas_nova.scheduler import runtime as runtime_mod

LOG = logging.getLogger(__name__)


def known_owner(instance) -> tuple[str, str] | None:
    """(user, project) if the Instance object carries them, else None.

    Reads the attributes oslo.versionedobjects stores set fields under
    (``_obj_<field>``): ``obj_attr_is_set`` costs several times more and this
    runs for every instance on every candidate host.
    """
    fields = getattr(instance, "__dict__", {})
    user = fields.get("_obj_user_id")
    project = fields.get("_obj_project_id")
    if user is None or project is None:
        return None
    return user, project


def summarize(
    runtime: runtime_mod.Runtime, instances, own_uuid: str | None
) -> tuple[set[str], set[str], str | None]:
    """(users, projects, first unknown uuid) of a host's instances.

    The moving instance itself (``own_uuid``) is left out.  The common case
    (nova carries every owner) is two set comprehensions.
    """
    fields = [i.__dict__ for i in instances.values()]
    users = {f.get("_obj_user_id") for f in fields}
    projects = {f.get("_obj_project_id") for f in fields}
    if (
        None not in users
        and None not in projects
        and own_uuid not in instances
    ):
        return users, projects, None
    users, projects, unknown = set(), set(), None
    cached = runtime.owners.get
    for uuid, instance in instances.items():
        if uuid == own_uuid:
            continue
        owner = known_owner(instance) or cached(uuid)
        if owner is None:
            unknown = unknown or uuid
            continue
        users.add(owner[0])
        projects.add(owner[1])
    return users, projects, unknown


def fill(runtime: runtime_mod.Runtime, host_states) -> None:
    """Batch-load owners nova's host states lack into the runtime cache."""
    by_cell: dict[object, tuple[object, list[str]]] = {}
    for host_state in host_states:
        for uuid, instance in host_state.instances.items():
            if known_owner(instance) or runtime.owners.get(uuid):
                continue
            ctx = getattr(instance, "_context", None)
            if ctx is None:
                # Placed by this scheduler in this request: recorded by us.
                continue
            cell = getattr(ctx, "cell_uuid", None)
            by_cell.setdefault(cell, (ctx, []))[1].append(uuid)
    if not by_cell:
        return
    # Imported here: the rest of this module is usable without nova.
    from nova import objects

    for ctx, uuids in by_cell.values():
        found = objects.InstanceList.get_by_filters(
            ctx, {"uuid": uuids}, expected_attrs=[]
        )
        runtime.owners.update(
            {i.uuid: (i.user_id, i.project_id) for i in found}
        )
        LOG.debug("ACaaS loaded owners of %d instances", len(found))
