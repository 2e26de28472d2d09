"""The in-memory isolation look-up: which records may exclude a requester.

Each snapshot carries the instance trust records that constrain their
neighbours (exclusions, exclusive).  :class:`ConstraintIndex` indexes them
by excluded user, excluded project and exclusive project, so one request's
look-up costs a few dictionary reads, not a database query.  Records the
scheduler wrote after the snapshot was read (still queued, or written
since) are merged in by :meth:`ConstraintIndex.candidates`, so isolation is
never weakened by the write-behind delay.  Pure: standard library and our
records only.
"""

from collections.abc import Iterable
from collections.abc import Mapping

from acaas_nova.db import records


def constrains(rec: records.InstanceTrust) -> bool:
    """Whether a record can exclude anybody at all."""
    return bool(
        rec.exclude_users
        or rec.exclude_projects
        or rec.exclusive
        or rec.defect
    )


class ConstraintIndex:
    """Constraining records of one snapshot, indexed for the look-up."""

    def __init__(self, recs: Iterable[records.InstanceTrust] = ()) -> None:
        self._by_user: dict[str, list[records.InstanceTrust]] = {}
        self._by_project: dict[str, list[records.InstanceTrust]] = {}
        self._exclusive: dict[str, list[records.InstanceTrust]] = {}
        self._defective: list[records.InstanceTrust] = []
        self.size = 0
        for rec in recs:
            self.size += 1
            if rec.defect:
                self._defective.append(rec)
                continue
            for user in rec.exclude_users:
                self._by_user.setdefault(user, []).append(rec)
            for project in rec.exclude_projects:
                self._by_project.setdefault(project, []).append(rec)
            if rec.exclusive:
                self._exclusive.setdefault(rec.project_id, []).append(rec)

    def candidates(
        self,
        user_id: str,
        project_id: str,
        overlay: Mapping[str, records.InstanceTrust] | None = None,
    ) -> list[records.InstanceTrust]:
        """A superset of the records that exclude this requester.

        :param overlay: newer records by instance uuid (the scheduler's
            own, not yet in this snapshot); they replace loaded ones.
        """
        found: list[records.InstanceTrust] = []
        found.extend(self._by_user.get(user_id, ()))
        found.extend(self._by_project.get(project_id, ()))
        for project, recs in self._exclusive.items():
            if project != project_id:
                found.extend(recs)
        found.extend(self._defective)
        if not overlay:
            return found
        merged = [r for r in found if r.instance_uuid not in overlay]
        merged.extend(r for r in overlay.values() if constrains(r))
        return merged
