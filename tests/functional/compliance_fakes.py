"""An in-memory stand-in for nova, for the compliance manager's logic tests.

It is *not* nova: it records what the manager asks (fence, unfence,
migrate) and lets a test decide how nova answers (move done, refused,
server in ERROR).  The scenarios against nova's own in-process cloud are
in test_compliance_nova.py; these tests exercise the manager's decisions
and its durable state against real databases.
"""

import dataclasses

from dc_agents.compliance import cloud as cloud_mod


@dataclasses.dataclass
class Service:
    disabled: bool = False
    reason: str | None = None


class RecordingCloud:
    def __init__(self, hosts, room=(8, 16384, 100)):
        self.servers_by_uuid: dict[str, cloud_mod.Server] = {}
        self.services = {h: Service() for h in hosts}
        self.room = {(h, h): room for h in hosts}
        self.migrations: list[tuple[str, str | None, bool]] = []
        self.refuse_live = False
        self.fail_migrations = False
        self.confirmed: list[str] = []

    def add_server(self, uuid, host, user="u1", project="p1"):
        self.servers_by_uuid[uuid] = cloud_mod.Server(
            uuid, host, host, user, project, "ACTIVE", None, (1, 512, 1)
        )

    # Cloud interface
    def servers(self):
        return list(self.servers_by_uuid.values())

    def server(self, uuid):
        return self.servers_by_uuid.get(uuid)

    def free(self):
        free = dict(self.room)
        for s in self.servers_by_uuid.values():
            key = s.key
            free[key] = tuple(
                f - x for f, x in zip(free[key], s.size, strict=True)
            )
        return free

    def fence(self, host, event_id):
        self.services[host] = Service(
            True, "ACaaS: untrusted (event %s)" % event_id
        )

    def unfence(self, host):
        svc = self.services[host]
        if svc.disabled and (svc.reason or "").startswith("ACaaS:"):
            self.services[host] = Service()
            return True
        return not svc.disabled

    def migrate(self, uuid, host, live):
        if live and self.refuse_live:
            raise cloud_mod.MoveRefused(kind="live", server=uuid, reason="no")
        if self.fail_migrations:
            raise cloud_mod.CloudError(service="nova", reason="HTTP 500")
        self.migrations.append((uuid, host, live))
        self.set_busy(uuid, "migrating")

    def confirm_move(self, uuid):
        self.confirmed.append(uuid)

    # Test controls: how "nova" finishes
    def set_busy(self, uuid, task_state):
        s = self.servers_by_uuid[uuid]
        self.servers_by_uuid[uuid] = dataclasses.replace(
            s, task_state=task_state
        )

    def finish(self, uuid, host=None, status="ACTIVE"):
        s = self.servers_by_uuid[uuid]
        target = host or s.host
        self.servers_by_uuid[uuid] = dataclasses.replace(
            s, host=target, node=target, task_state=None, status=status
        )

    def finish_all(self):
        for uuid, dest, _live in self.migrations:
            if self.servers_by_uuid[uuid].busy:
                self.finish(uuid, dest)
