"""Who runs where and how much room is left: the planner's working state.

:class:`Occupancy` starts from the tracked instances and each host's free
resources (as placement reports them) and is updated as the planner
assigns moves, so that one plan never overfills a host or puts two
instances that exclude each other side by side.  Pure: no nova, oslo or
SQLAlchemy.
"""

import operator
from collections.abc import Iterable
from collections.abc import Mapping

from acaas_nova.scheduler import topology as topo_mod


class Occupancy:
    """Free resources, owners and isolation constraints per host.

    Built once per plan from every tracked instance, so construction is a
    single pass that chains each instance to the previous one on its host
    (two containers, whatever the number of hosts: a plan allocates few
    objects that live long enough to cost the cycle collector a full
    pass); everything else about a host (its occupants, which of them
    constrain it, who owns them) is worked out when the planner first asks
    about that host, and most hosts are never asked about.
    """

    def __init__(
        self,
        tracked: Iterable,
        free: Mapping[topo_mod.NodeKey, tuple[int, ...]],
    ) -> None:
        #: Free resources as given (possibly read lazily, per host) ...
        self._given = free
        #: ... and as changed by the moves planned so far.
        self._free: dict = {}
        #: host -> smallest free amount, as changed or first asked.
        self._room: dict = {}
        if not isinstance(tracked, (list, tuple)):
            tracked = list(tracked)
        #: host -> index of its last instance in ``tracked``; each index
        #: -> the index of the previous instance on the same host, or -1.
        head: dict = {}
        chain = [-1] * len(tracked)
        get = head.get
        for i, inst in enumerate(tracked):
            key = inst.host
            chain[i] = get(key, -1)
            head[key] = i
        self._tracked, self._head, self._chain = tracked, head, chain
        #: host -> its occupants in tracked order, as changed by moves;
        #: built from the chain when first asked.
        self._by_host: dict = {}
        #: host -> {uuid: occupant} of the occupants that keep some owners
        #: off it, built when first asked.
        self._guards: dict = {}
        #: host -> (users, projects) owner counts, built when first asked
        #: (only a constraining instance needs them).
        self._owners: dict = {}
        #: id(requirements) -> whether they constrain (sets are shared).
        self._flags: dict = {}

    def _group(self, key) -> list:
        group = self._by_host.get(key)
        if group is None:
            group = []
            tracked, chain = self._tracked, self._chain
            i = self._head.get(key, -1)
            while i >= 0:
                group.append(tracked[i])
                i = chain[i]
            group.reverse()
            self._by_host[key] = group
        return group

    def _constrains(self, inst) -> bool:
        reqs = inst.requirements
        flag = self._flags.get(id(reqs))
        if flag is None:
            # The sets stay alive (the tracked instances hold them), so
            # their ids are not reused while this occupancy exists.
            flag = self._flags[id(reqs)] = _constrains(inst)
        return flag

    def _guarding(self, key) -> dict:
        guards = self._guards.get(key)
        if guards is None:
            guards = self._guards[key] = {}
            flags = self._flags
            for inst in self._group(key):
                flag = flags.get(id(inst.requirements))
                if flag is None:
                    flag = self._constrains(inst)
                if flag:
                    guards[inst.uuid] = inst
        return guards

    def _owner_counts(self, key):
        counts = self._owners.get(key)
        if counts is None:
            users: dict = {}
            projects: dict = {}
            for inst in self._group(key):
                me = inst.requester
                users[me.user_id] = users.get(me.user_id, 0) + 1
                projects[me.project_id] = projects.get(me.project_id, 0) + 1
            counts = self._owners[key] = (users, projects)
        return counts

    def _add(self, inst, key) -> None:
        self._group(key).append(inst)
        guards = self._guards.get(key)
        if guards is not None and self._constrains(inst):
            guards[inst.uuid] = inst
        counts = self._owners.get(key)
        if counts is not None:
            users, projects = counts
            me = inst.requester
            users[me.user_id] = users.get(me.user_id, 0) + 1
            projects[me.project_id] = projects.get(me.project_id, 0) + 1

    def _remove(self, inst, key) -> None:
        group = self._group(key)
        for i, other in enumerate(group):
            if other.uuid == inst.uuid:
                del group[i]
                break
        guards = self._guards.get(key)
        if guards is not None:
            guards.pop(inst.uuid, None)
        counts = self._owners.get(key)
        if counts is not None:
            me = inst.requester
            for counter, owner in (
                (counts[0], me.user_id),
                (counts[1], me.project_id),
            ):
                counter[owner] -= 1
                if counter[owner] <= 0:
                    del counter[owner]

    def room_after(self, key, size: tuple[int, ...]) -> int | None:
        """Smallest free amount left on ``key`` after adding ``size``;
        None when it does not fit (or the host's free space is unknown)."""
        free = self.free(key)
        if free is None or len(free) != len(size):
            return None
        if len(size) == 1:
            left = free[0] - size[0]
        else:
            left = min(map(operator.sub, free, size))
        return None if left < 0 else left

    def isolation_reason(self, key, inst) -> str | None:
        """Why ``inst`` may not join the instances on ``key``, or None."""
        reqs = inst.requirements
        me = inst.requester
        if self._constrains(inst):
            users, projects = self._owner_counts(key)
            for user in sorted(reqs.exclude_users):
                if users.get(user):
                    return "runs instances of excluded user %s" % user
            for project in sorted(reqs.exclude_projects):
                if projects.get(project):
                    return "runs instances of excluded project %s" % project
            if reqs.exclusive and any(p != me.project_id for p in projects):
                return "exclusive: runs instances of another project"
        for other in self._guarding(key).values():
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
            self._set_free(source, _plus(free, inst.size, 1))
        self._set_free(
            destination, _plus(self.free(destination), inst.size, -1)
        )
        self._add(inst, destination)

    def _set_free(self, key, free) -> None:
        self._free[key] = free
        self._room[key] = min(free) if free else None

    def free(self, key) -> tuple[int, ...] | None:
        if key in self._free:
            return self._free[key]
        try:
            return self._given[key]
        except KeyError:
            return None

    def room(self, key) -> int | None:
        """Smallest free amount of ``key`` now; None when unknown/empty."""
        try:
            return self._room[key]
        except KeyError:
            pass
        free = self.free(key)
        room = self._room[key] = min(free) if free else None
        return room

    def rooms(self, hosts, expiry, now):
        """The planner's heap entries for one domain and requirement set.

        :param hosts: the domain's members, sorted.
        :param expiry: host -> time until which it passes the set's
            static checks (the matcher's ``expiry``).
        :returns: ``(entries, failing)``: ``(-room, position, host)`` of
            each passing host whose room is known (the position in
            ``hosts`` breaks ties as the host would, with an integer
            comparison), and the hosts that do not pass, in order.
        """
        known = self._room
        out, failing = [], []
        for i, host in enumerate(hosts):
            deadline = expiry.get(host)
            if deadline is None or now > deadline:
                failing.append(host)
                continue
            room = known.get(host, _UNSEEN)
            if room is _UNSEEN:
                room = self.room(host)
            if room is not None:
                out.append((-room, i, host))
        return out, failing


_UNSEEN = object()


def _plus(free, size, sign) -> tuple[int, ...]:
    """``free`` plus (``sign`` 1) or minus (-1) ``size``, item by item."""
    if len(free) != len(size):
        raise ValueError(
            "free resources %r and size %r differ in length" % (free, size)
        )
    return tuple(map(operator.add if sign > 0 else operator.sub, free, size))


def _constrains(inst) -> bool:
    """Whether ``inst`` keeps some other owners off its host."""
    reqs = inst.requirements
    return bool(reqs.exclude_users or reqs.exclude_projects or reqs.exclusive)
