"""Several DC-S workers on a hash ring, all real: Redis (tooz), RabbitMQ,
MariaDB and five swtpm-backed DC-C agents.

The scenario runs in order against one cluster: three workers start one
after the other and split the nodes as the ring says, each node attested
by exactly one worker; a SIGKILLed worker's nodes are attested by the
others within two intervals and no node goes stale in the scheduler's
view meanwhile; a fourth worker joins and takes its share.  Evidence of
who attested what comes from the workers' debug logs (one line per quote
request, with a digest of its nonce) and from ``compute_nodes.dcs_owner``.
"""

import collections
import datetime
import re
import signal
import time

import pytest

from acaas_nova import exception
from acaas_nova.db import api as db_api
from acaas_nova.db import attestation as attestation_db
from acaas_nova.db import domains as domains_db
from acaas_nova.db import ownership
from acaas_nova.db import snapshot as snapshot_db
from dc_agents.dcs import operatorapi
from dc_agents.dcs import ring
from tests.functional import databases
from tests.functional import realparts
from tests.functional.daemons import Cluster
from tests.functional.daemons import wait_for
from tests.functional.swtpm import SwtpmFactory
from tests.functional.swtpm import swtpm_ca  # noqa: F401 (pytest fixtures)
from tests.functional.swtpm import swtpm_ca_template  # noqa: F401 (pytest fixtures)
from tests.functional.test_daemons import DOMAIN
from tests.functional.test_daemons import _setup_db
from tests.functional.test_daemons import _whitelist
from tests.functional.test_dcs_coordination import delete_group

NODES = 5
# Short enough for a quick test, long enough that a loaded CI machine
# (processes stalled for a second) does not look like dead workers.
INTERVAL = 4.0
# The scheduler's [acaas] attestation_ttl in this scenario: three intervals.
TTL = 3 * INTERVAL
HEARTBEAT = 0.5
MEMBERSHIP_TIMEOUT = 2.0
REPLICAS = 64
QUOTE = re.compile(
    r"^(\S+ \S+) .*Quote of (\S+?):\S+ asked by (\S+), nonce sha256 "
    r"([0-9a-f]+)"
)


def _names(run):
    """Worker names for which the ring gives each of three workers some
    of the nodes, and a fourth some of the survivors' nodes."""
    keys = [ring.node_key("node%d" % i, "node%d" % i) for i in range(NODES)]
    for n in range(1000):
        names = ["dcs%s-%d%s" % (run, n, x) for x in "abcd"]
        three = ring.Ring(names[:3], REPLICAS)
        if {three.owner(k) for k in keys} != set(names[:3]):
            continue
        after = ring.Ring([names[1], names[2], names[3]], REPLICAS)
        if names[3] in {after.owner(k) for k in keys}:
            return names
    raise AssertionError("no suitable worker names")


class Scenario:
    def __init__(self, cluster, names, redis_url):
        self.cluster = cluster
        self.ctx = cluster.ctx
        self.names = names
        self.redis_url = redis_url
        self.events = 0  # membership changes so far

    def start(self, *names):
        self.cluster.start_workers({name: self._extra(name) for name in names})
        self.events += len(names)

    def _extra(self, name):
        return (
            "[coordination]\nbackend_url = %s\nmember_id = %s\n"
            "group_name = %s\nheartbeat_interval = %s\n"
            "membership_timeout = %s\nring_replicas = %d\n"
            % (
                self.redis_url,
                name,
                self.cluster.exchange,
                HEARTBEAT,
                MEMBERSHIP_TIMEOUT,
                REPLICAS,
            )
        )

    def logs(self):
        agents = ["dcc-%s" % name for name in self.cluster.nodes]
        return (
            "\n".join(
                "--- %s:\n%s" % (name, self.cluster.log_tail(name, 40))
                for name in [*self.names, *agents]
            )
            + "\n--- owners: %s" % self.owners_safe()
        )

    def owners_safe(self):
        try:
            return ownership.node_owners(self.ctx)
        except exception.ACaaSException as exc:
            return str(exc)

    def expected(self, live):
        r = ring.Ring(live, REPLICAS)
        return {
            ("node%d" % i,) * 2: r.owner(ring.node_key(*("node%d" % i,) * 2))
            for i in range(NODES)
        }

    def wait(self, predicate, timeout, what):
        try:
            return wait_for(predicate, timeout, what=what)
        except AssertionError as exc:
            raise AssertionError("%s\n%s" % (exc, self.logs())) from None

    def quotes(self, since=None):
        """[(time, node, worker, nonce digest)] from every worker's log,
        after the byte offsets ``since`` (name -> offset)."""
        out = []
        for name in self.names:
            path = self.cluster.base / ("%s.log" % name)
            if not path.exists():
                continue
            with open(path, "rb") as log:
                log.seek((since or {}).get(name, 0))
                text = log.read().decode(errors="replace")
            for line in text.splitlines():
                m = QUOTE.match(line)
                if m:
                    out.append(m.groups())
        return sorted(out)

    def offsets(self):
        return {
            name: (self.cluster.base / ("%s.log" % name)).stat().st_size
            for name in self.names
            if (self.cluster.base / ("%s.log" % name)).exists()
        }

    def fresh(self, names, after):
        """Whether every node of ``names`` was attested (trusted) after
        ``after``, as the scheduler reads it."""
        nodes = snapshot_db.snapshot_get(self.ctx).nodes
        return all(
            nodes[(n, n)].status == "trusted"
            and nodes[(n, n)].last_attested_at is not None
            and nodes[(n, n)].last_attested_at > after
            for n in names
        )

    def all_trusted(self):
        """Whether every node is registered and trusted (any worker)."""
        nodes = snapshot_db.snapshot_get(self.ctx).nodes
        return all(
            (n, n) in nodes and nodes[(n, n)].status == "trusted"
            for n in self.cluster.nodes
        )

    def stale(self):
        """Nodes the scheduler would refuse as stale or not trusted."""
        now = datetime.datetime.now(datetime.UTC)
        cutoff = now - datetime.timedelta(seconds=TTL)
        return sorted(
            key[0]
            for key, node in snapshot_db.snapshot_get(self.ctx).nodes.items()
            if node.status != "trusted"
            or node.last_attested_at is None
            or node.last_attested_at < cutoff
        )


@pytest.fixture(scope="module")
def scenario(tmp_path_factory, swtpm_ca_template):  # noqa: F811
    redis_url = realparts.require_redis()
    url, drop = databases.create("mysql")
    tmp = tmp_path_factory.mktemp("workers")
    ca, template = swtpm_ca_template
    ctx = _setup_db(url)
    factory = SwtpmFactory(tmp / "swtpm", ca, template)
    cluster = Cluster(
        tmp / "cluster",
        url,
        ca.bundle_pem,
        attestation_interval=INTERVAL,
        attestation_deadline=3.0,
    )
    cluster.ctx = ctx
    names = _names(cluster.exchange[-6:])
    sc = Scenario(cluster, names, redis_url)
    try:
        for i in range(NODES):
            node = cluster.add_node("node%d" % i, factory.new(unique=True))
            node.boot()
        _whitelist(ctx, cluster.nodes["node0"].log.lines[0])
        sc.start(*names[:3])
        for name in cluster.nodes:
            cluster.declare(name, DOMAIN)
            cluster.start_dcc(name, DOMAIN)
        yield sc
    finally:
        cluster.stop_all()
        factory.stop_all()
        db_api.dispose()
        drop()
        delete_group(redis_url, cluster.exchange)


def test_each_node_attested_by_exactly_its_ring_owner(scenario):
    sc = scenario
    want = sc.expected(sc.names[:3])
    nodes = [k[0] for k in want]
    sc.wait(
        lambda: (
            ownership.node_owners(sc.ctx) == want
            and sc.fresh(nodes, datetime.datetime.now(datetime.UTC) - 2 * _s())
        ),
        90,
        "five nodes trusted and owned as the ring says",
    )
    since = sc.offsets()
    sc.wait(
        lambda: _each_quoted(sc.quotes(since), nodes, 2),
        6 * INTERVAL,
        "two attestations of every node",
    )
    by_node = collections.defaultdict(set)
    for _t, node, worker, _nonce in sc.quotes(since):
        by_node[node].add(worker)
    assert {n: by_node[n] for n in nodes} == {
        k[0]: {owner} for k, owner in want.items()
    }, sc.logs()
    sc.wait(
        lambda: domains_db.domain_get(sc.ctx, DOMAIN).dcot,
        2 * INTERVAL,
        "a DCoT for %s" % DOMAIN,
    )


def test_attest_host_reaches_the_owner_from_any_worker(scenario):
    """acaas-manage's attest_host lands on any worker (shared queue); a
    worker that does not own the node forwards it to the owner."""
    sc = scenario
    # Independent of the tests before it: every node registered first.
    sc.wait(sc.all_trusted, 90, "every node registered and trusted")
    conf = sc.cluster.client_conf()
    transport = operatorapi.get_transport(conf)
    try:
        api = operatorapi.OperatorAPI(conf, transport, timeout=20)
        since = sc.offsets()
        # Three calls per node: round-robin delivery reaches every worker.
        results = [
            api.attest_host("node%d" % i)
            for i in range(NODES)
            for _ in range(3)
        ]
    finally:
        transport.cleanup()
    assert {r["status"] for r in results} == {"trusted"}, results
    forwarded = sum(
        (sc.cluster.base / ("%s.log" % name))
        .read_text(errors="replace")[since.get(name, 0) :]
        .count("Forwarding attest_host")
        for name in sc.names[:3]
    )
    assert forwarded > 0, sc.logs()
    owners = sc.expected(sc.names[:3])
    for _t, node, worker, _nonce in sc.quotes(since):
        assert worker == owners[(node, node)], sc.logs()


def test_killed_worker_nodes_taken_over_within_two_intervals(scenario):
    sc = scenario
    victim, survivors = sc.names[0], sc.names[1:3]
    want = sc.expected(survivors)
    lost = sorted(
        k[0]
        for k, owner in sc.expected(sc.names[:3]).items()
        if owner == victim
    )
    assert lost
    assert not sc.stale(), sc.logs()
    killed_at = datetime.datetime.now(datetime.UTC)
    sc.cluster.stop_worker(victim, signal.SIGKILL)
    sc.events += 1
    stale_seen = set()

    def taken_over():
        stale_seen.update(sc.stale())
        return sc.fresh(lost, killed_at)

    sc.wait(
        taken_over,
        2 * INTERVAL,
        "%s's nodes %s attested again" % (victim, lost),
    )
    assert {k: ownership.node_owners(sc.ctx)[k] for k in want} == want
    # And for one more interval nothing goes stale either.
    until = time.monotonic() + INTERVAL
    while time.monotonic() < until:
        stale_seen.update(sc.stale())
        time.sleep(0.2)
    assert not stale_seen, "%s\n%s" % (stale_seen, sc.logs())


def test_new_worker_takes_a_share(scenario):
    sc = scenario
    newcomer = sc.names[3]
    live = [sc.names[1], sc.names[2], newcomer]
    want = sc.expected(live)
    gained = sorted(k[0] for k, o in want.items() if o == newcomer)
    since = sc.offsets()
    joined_at = datetime.datetime.now(datetime.UTC)
    sc.start(newcomer)
    sc.wait(
        lambda: (
            ownership.node_owners(sc.ctx) == want
            and sc.fresh(gained, joined_at)
        ),
        30,
        "%s owns and attested %s" % (newcomer, gained),
    )
    since = sc.offsets()
    nodes = [k[0] for k in want]
    sc.wait(
        lambda: _each_quoted(sc.quotes(since), nodes, 2),
        6 * INTERVAL,
        "two attestations of every node after the join",
    )
    by_node = collections.defaultdict(set)
    for _t, node, worker, _nonce in sc.quotes(since):
        by_node[node].add(worker)
    assert {n: by_node[n] for n in nodes} == {
        k[0]: {owner} for k, owner in want.items()
    }, sc.logs()
    assert not sc.stale(), sc.logs()


def test_no_nonce_used_twice_and_no_node_shared(scenario):
    sc = scenario
    quotes = sc.quotes()
    digests = collections.Counter(q[3] for q in quotes)
    assert quotes and max(digests.values()) == 1, [
        d for d, n in digests.items() if n > 1
    ]
    # Each node's attestations, in time order, change hands at most once
    # per membership change: never back and forth between two workers.
    runs = collections.Counter()
    last = {}
    for _t, node, worker, _nonce in quotes:
        if last.get(node) != worker:
            runs[node] += 1
            last[node] = worker
    assert max(runs.values()) <= sc.events + 1, (runs, sc.events)


def test_clean_stop_exits_0_and_hands_the_nodes_over(scenario):
    sc = scenario
    leaving = sc.names[3]
    live = [sc.names[1], sc.names[2]]
    want = sc.expected(live)
    stopped_at = datetime.datetime.now(datetime.UTC)
    assert sc.cluster.stop_worker(leaving) == 0, sc.logs()
    sc.events += 1
    assert "Released" in sc.cluster.log_tail(leaving), sc.logs()
    moved = sorted(
        k[0] for k, o in sc.expected(sc.names[1:]).items() if o == leaving
    )
    sc.wait(
        lambda: (
            ownership.node_owners(sc.ctx) == want
            and sc.fresh(moved, stopped_at)
        ),
        2 * INTERVAL,
        "%s's nodes %s attested by %s" % (leaving, moved, live),
    )


def _s():
    return datetime.timedelta(seconds=INTERVAL)


def _each_quoted(quotes, nodes, count):
    seen = collections.Counter(q[1] for q in quotes)
    return all(seen[n] >= count for n in nodes)


def test_registrations_spread_over_workers(scenario):
    """Registration requests landed on several workers (shared queue), yet
    every node registered: the challenges are shared."""
    sc = scenario
    sent = collections.Counter()
    for name in sc.names:
        path = sc.cluster.base / ("%s.log" % name)
        if path.exists():
            sent[name] = path.read_text(errors="replace").count(
                "credential challenge sent"
            )
    assert sum(sent.values()) >= NODES
    regs = [
        attestation_db.registration_get(sc.ctx, "node%d" % i)
        for i in range(NODES)
    ]
    assert all(r.registered for r in regs)
