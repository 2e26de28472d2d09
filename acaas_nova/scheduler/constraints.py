"""The in-memory isolation look-up: which records may exclude a requester.

Each snapshot carries the instance trust records that constrain their
neighbours (exclusions, exclusive).  :class:`ConstraintIndex` indexes them
so that one request's look-up costs a few dictionary reads, never a
database query and never a walk over every record:

* exclusions are indexed by the excluded user and project, and
  :meth:`ConstraintIndex.candidates` returns only the records naming the
  requester (plus unreadable ones, which exclude everyone);
* exclusive instances are kept as ``instance uuid -> project``
  (:attr:`ConstraintIndex.exclusive`), checked per instance on the
  candidate hosts instead of being listed for every request.

The scheduler's own newer records (still queued, or written after the
snapshot was read) live in a second index, the recorder's overlay, which
is read the same way, so isolation is never weakened by the write-behind
delay.  The overlay is changed by one writer at a time and read without a
lock: every change replaces the small inner dictionaries rather than
mutating one a reader may be iterating.  Pure: standard library and our
records only.
"""

from collections.abc import Iterable

from acaas_nova.db import records

_Bucket = dict[str, records.InstanceTrust]


def constrains(rec: records.InstanceTrust) -> bool:
    """Whether a record can exclude anybody at all."""
    return bool(
        rec.exclude_users
        or rec.exclude_projects
        or rec.exclusive
        or rec.defect
    )


class ConstraintIndex:
    """Constraining records, indexed for the per-request look-up."""

    def __init__(self, recs: Iterable[records.InstanceTrust] = ()) -> None:
        self._records: _Bucket = {}
        self._by_user: dict[str, _Bucket] = {}
        self._by_project: dict[str, _Bucket] = {}
        self._defective: _Bucket = {}
        #: uuid -> project of exclusive instances.
        self.exclusive: dict[str, str] = {}
        for rec in recs:
            self.add(rec)

    @property
    def size(self) -> int:
        return len(self._records)

    def __contains__(self, uuid: str) -> bool:
        return uuid in self._records

    def add(self, rec: records.InstanceTrust) -> None:
        """Index ``rec`` (replacing an older record of its instance)."""
        uuid = rec.instance_uuid
        if uuid in self._records:
            self.remove(uuid)
        if not constrains(rec):
            return
        self._records[uuid] = rec
        if rec.defect:
            self._defective = {**self._defective, uuid: rec}
            return
        for user in rec.exclude_users:
            self._by_user[user] = {**self._by_user.get(user, {}), uuid: rec}
        for project in rec.exclude_projects:
            self._by_project[project] = {
                **self._by_project.get(project, {}),
                uuid: rec,
            }
        if rec.exclusive:
            self.exclusive[uuid] = rec.project_id

    def remove(self, uuid: str) -> None:
        rec = self._records.pop(uuid, None)
        if rec is None:
            return
        self.exclusive.pop(uuid, None)
        if uuid in self._defective:
            self._defective = {
                u: r for u, r in self._defective.items() if u != uuid
            }
        for index, keys in (
            (self._by_user, rec.exclude_users),
            (self._by_project, rec.exclude_projects),
        ):
            for key in keys:
                left = {
                    u: r for u, r in index.get(key, {}).items() if u != uuid
                }
                if left:
                    index[key] = left
                else:
                    index.pop(key, None)

    def candidates(
        self, user_id: str, project_id: str
    ) -> list[records.InstanceTrust]:
        """Records whose exclusions may name this requester (a superset)."""
        found: list[records.InstanceTrust] = []
        found.extend(self._by_user.get(user_id, {}).values())
        found.extend(self._by_project.get(project_id, {}).values())
        found.extend(self._defective.values())
        return found
