"""Who runs where and how much room is left: the planner's working state.

:class:`Occupancy` starts from the tracked instances and each host's free
resources (as placement reports them) and is updated as the planner
assigns moves, so that one plan never overfills a host or puts two
instances that exclude each other side by side.  Pure: no nova, oslo or
SQLAlchemy.
"""

import collections
from collections.abc import Iterable
from collections.abc import Mapping

from acaas_nova.scheduler import topology as topo_mod


class Occupancy:
    """Free resources, owners and isolation constraints per host."""

    def __init__(
        self,
        tracked: Iterable,
        free: Mapping[topo_mod.NodeKey, tuple[int, ...]],
    ) -> None:
        #: Free resources as given (possibly read lazily, per host) ...
        self._given = free
        #: ... and as changed by the moves planned so far.
        self._free: dict = {}
        by_host: dict = {}
        #: Hosts with an occupant that keeps some owners off them.
        self._guarded: set = set()
        constrains: dict[int, bool] = {}
        for inst in tracked:
            group = by_host.get(inst.host)
            if group is None:
                by_host[inst.host] = [inst]
            else:
                group.append(inst)
            # Requirement sets are shared by many instances: judge each once.
            reqs_id = id(inst.requirements)
            flag = constrains.get(reqs_id)
            if flag is None:
                flag = constrains[reqs_id] = _constrains(inst)
            if flag:
                self._guarded.add(inst.host)
        self._by_host = by_host
        #: host -> (users, projects, constraining occupants), built when a
        #: host is first asked about (most hosts never are).
        self._hosts: dict = {}

    def _state(self, key):
        state = self._hosts.get(key)
        if state is None:
            users: collections.Counter = collections.Counter()
            projects: collections.Counter = collections.Counter()
            constraining: dict = {}
            for inst in self._by_host.get(key, ()):
                users[inst.requester.user_id] += 1
                projects[inst.requester.project_id] += 1
                if _constrains(inst):
                    constraining[inst.uuid] = inst
            state = self._hosts[key] = (users, projects, constraining)
        return state

    def _add(self, inst, key) -> None:
        self._by_host.setdefault(key, []).append(inst)
        if _constrains(inst):
            self._guarded.add(key)
        state = self._hosts.get(key)
        if state is None:
            return  # built from _by_host when first asked about
        users, projects, constraining = state
        users[inst.requester.user_id] += 1
        projects[inst.requester.project_id] += 1
        if _constrains(inst):
            constraining[inst.uuid] = inst

    def _remove(self, inst, key) -> None:
        group = self._by_host.get(key, [])
        for i, other in enumerate(group):
            if other.uuid == inst.uuid:
                del group[i]
                break
        state = self._hosts.get(key)
        if state is None:
            return
        users, projects, constraining = state
        for counter, owner in (
            (users, inst.requester.user_id),
            (projects, inst.requester.project_id),
        ):
            counter[owner] -= 1
            if counter[owner] <= 0:
                del counter[owner]
        constraining.pop(inst.uuid, None)

    def room_after(self, key, size: tuple[int, ...]) -> int | None:
        """Smallest free amount left on ``key`` after adding ``size``;
        None when it does not fit (or the host's free space is unknown)."""
        free = self.free(key)
        if free is None or len(free) != len(size):
            return None
        left = [f - s for f, s in zip(free, size, strict=True)]
        if min(left) < 0:
            return None
        return min(left)

    def isolation_reason(self, key, inst) -> str | None:
        """Why ``inst`` may not join the instances on ``key``, or None."""
        reqs = inst.requirements
        if key not in self._guarded and not _constrains(inst):
            return None
        me = inst.requester
        users, projects, constraining = self._state(key)
        for user in reqs.exclude_users:
            if users.get(user):
                return "runs instances of excluded user %s" % user
        for project in reqs.exclude_projects:
            if projects.get(project):
                return "runs instances of excluded project %s" % project
        if reqs.exclusive and any(p != me.project_id for p in projects):
            return "exclusive: runs instances of another project"
        for other in constraining.values():
            if other.uuid == inst.uuid:
                continue
            oreqs = other.requirements
            if me.user_id in oreqs.exclude_users:
                return "instance %s excludes user %s" % (
                    other.uuid,
                    me.user_id,
                )
            if me.project_id in oreqs.exclude_projects:
                return "instance %s excludes project %s" % (
                    other.uuid,
                    me.project_id,
                )
            if oreqs.exclusive and other.requester.project_id != me.project_id:
                return "instance %s is exclusive to project %s" % (
                    other.uuid,
                    other.requester.project_id,
                )
        return None

    def move(self, inst, destination) -> None:
        """Record that ``inst`` leaves its host for ``destination``."""
        source = inst.host
        self._remove(inst, source)
        free = self.free(source)
        if free is not None:
            self._free[source] = tuple(
                f + s for f, s in zip(free, inst.size, strict=True)
            )
        self._free[destination] = tuple(
            f - s
            for f, s in zip(self.free(destination), inst.size, strict=True)
        )
        self._add(inst, destination)

    def free(self, key) -> tuple[int, ...] | None:
        if key in self._free:
            return self._free[key]
        try:
            return self._given[key]
        except KeyError:
            return None


def _constrains(inst) -> bool:
    """Whether ``inst`` keeps some other owners off its host."""
    reqs = inst.requirements
    return bool(reqs.exclude_users or reqs.exclude_projects or reqs.exclusive)
