"""DC-S workers' coordination on a real Redis: membership, ownership,
leadership, the group lock, and a worker cut off from the backend.

The coordinators run in this process; a small TCP relay between one of
them and Redis stands for its network, so that cutting the relay is a
network loss (the shared Redis itself is never touched).
"""

import socket
import threading
import uuid

import pytest
from oslo_config import cfg

from acaas_nova import conf as acaas_conf
from dc_agents.dcs import coordination
from tests.functional import realparts
from tests.functional.daemons import wait_for

HEARTBEAT = 0.2
TIMEOUT = 1.0
KEYS = [("cn%03d" % i, "cn%03d" % i) for i in range(300)]


class Relay:
    """Forwards TCP connections from a local port to Redis."""

    def __init__(self, target) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(
            target=self._accept, args=(listener,), daemon=True
        ).start()

    def _accept(self, listener) -> None:
        while True:
            try:
                client, _addr = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=self._pipe, args=(a, b), daemon=True
                ).start()

    @staticmethod
    def _pipe(src, dst) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        """Refuse new connections and break the open ones."""
        try:
            # Wakes the accept() blocked in its thread; close() would not.
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def _conf(url, member, group):
    conf = cfg.ConfigOpts()
    acaas_conf.register_opts(conf)
    conf([], project="acaas", default_config_files=[])
    for name, value in (
        ("backend_url", url),
        ("member_id", member),
        ("group_name", group),
        ("heartbeat_interval", HEARTBEAT),
        ("membership_timeout", TIMEOUT),
    ):
        conf.set_override(name, value, group="coordination")
    return conf


@pytest.fixture
def group():
    url = realparts.require_redis()
    name = "acaas-test-%s" % uuid.uuid4().hex[:10]
    started = []

    def make(member, backend=url):
        coord = coordination.Coordination(_conf(backend, member, name))
        coord.start()
        started.append(coord)
        return coord

    yield make
    for coord in started:
        coord.stop()
    delete_group(url, name)


def delete_group(url, name):
    """Remove a test's tooz group from the shared Redis."""
    from tooz import coordination as tooz_coordination

    coord = tooz_coordination.get_coordinator(url, b"acaas-test-cleanup")
    coord.start()
    try:
        coord.delete_group(name.encode()).get()
    except tooz_coordination.ToozError:
        pass  # not created, or a member still listed: leave it
    finally:
        coord.stop()


def _members(coord, expected):
    wait_for(
        lambda: coord.members() == frozenset(expected),
        10,
        what="members %s (have %s)" % (sorted(expected), coord.members()),
    )


def test_members_split_the_nodes_exactly(group):
    a, b, c = group("a"), group("b"), group("c")
    for coord in (a, b, c):
        _members(coord, {"a", "b", "c"})
    for key in KEYS:
        assert [x.owns(key) for x in (a, b, c)].count(True) == 1, key
    shares = [sum(x.owns(k) for k in KEYS) for x in (a, b, c)]
    assert all(share > len(KEYS) / 6 for share in shares), shares


def test_a_stopped_member_leaves_and_its_share_moves(group):
    a, b = group("a"), group("b")
    _members(a, {"a", "b"})
    b.stop()
    _members(a, {"a"})
    assert all(a.owns(key) for key in KEYS)


def test_exactly_one_leader_per_role(group):
    a, b = group("a"), group("b")
    assert a.leads("compliance")
    assert not b.leads("compliance")
    assert b.leads("other-role")  # roles are independent
    a.stop()
    wait_for(lambda: b.leads("compliance"), 10, what="b leads compliance")
    assert b.leads("compliance")


def test_group_lock_excludes_other_workers(group):
    a, b = group("a"), group("b")
    inside, release, order = threading.Event(), threading.Event(), []

    def first():
        with a.lock("chains"):
            inside.set()
            release.wait(10)
            order.append("a")

    def second():
        with b.lock("chains"):
            order.append("b")

    t1 = threading.Thread(target=first)
    t1.start()
    assert inside.wait(10)
    t2 = threading.Thread(target=second)
    t2.start()
    t2.join(0.5)
    assert order == []  # b is still waiting for a's lock
    release.set()
    t1.join(10)
    t2.join(10)
    assert order == ["a", "b"]


def test_worker_cut_off_from_the_backend_owns_nothing_then_rejoins(group):
    host, port = realparts.REDIS_HOST, realparts.REDIS_PORT
    relay = Relay((host, port))
    relay.start()
    a = group("a")
    c = group("c", "redis://127.0.0.1:%d" % relay.port)
    _members(a, {"a", "c"})
    _members(c, {"a", "c"})
    owned_by_c = [k for k in KEYS if c.owns(k)]
    assert owned_by_c
    relay.cut()
    # The others drop it after the membership timeout and take its nodes;
    # it stops claiming them itself.
    _members(a, {"a"})
    assert all(a.owns(k) for k in owned_by_c)
    wait_for(lambda: not c.alive(), 10, what="c knows it is cut off")
    assert not any(c.owns(k) for k in owned_by_c)
    relay.start()
    _members(a, {"a", "c"})
