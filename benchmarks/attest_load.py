"""Load benchmark of DC-S: W DC-S worker processes attesting N nodes.

    python benchmarks/attest_load.py --nodes 1000 --interval 10 \
        --duration 40 --workers 2 --db mysql

Each DC-S worker is its own process running the real code (round runner,
round book, verification, batched database writes) with
``[dcs] static_partitions`` = its 1/W share of the partitions (a static
split), or, with ``--ring redis://127.0.0.1:6379``, with the nodes shared
out by the tooz hash ring (``[coordination] backend_url``), as production
workers share them.  ``--real``
nodes are real DC-C agents (``acaas-dcc`` subprocesses) on real swtpm
TPMs.  The others are SIMULATED: ``--simulators K`` simulator
processes (2 by default; each takes every K-th partition) answer every
round for all of them over RabbitMQ with quotes signed in software
(RSA-2048 AK, the TPM's RSASSA format, built with
``acaas_nova.evidence.tpm_build``) over each node's round nonce, with an
IMA log of a few entries; so every attestation still costs DC-S its share
of a round message, one answer message, a quote verification, an
incremental log check and its share of a batched database write.

DC-S CPU is measured on the worker processes only (psutil), never on the
simulator, the agents or this driver.  ``--profile N`` profiles worker 0
(yappi, CPU clock, all threads) during the measurement and prints its N
costliest functions.  Last line::

    RESULT nodes=<N> workers=<W> attestations_per_s=<x> \
cpu_ms_per_attestation=<y> max_lateness_s=<z> double_attested=<d>

``double_attested`` counts nodes that two workers attested in the window.
Needs RabbitMQ at 127.0.0.1:5672 (guest/guest), swtpm for real agents.
"""

import argparse
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import oslo_messaging

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: The bare-metal verifier throughput reported for Keylime (quotes/s).
KEYLIME_QUOTES_PER_S = 2500.0
SIM_PREFIX = "sim"


def _sim_log():
    from acaas_nova.evidence import ima_build
    from tests.functional.daemons import GOOD_FILES

    log = ima_build.LogBuilder(("sha256",))
    zeros = {"sha256": {i: bytes(32) for i in range(10)}}
    log.add_boot_aggregate(zeros, "sha256")
    for path, content in GOOD_FILES.items():
        log.add_file(path, content)
    pcrs = {i: bytes(32) for i in range(10)}
    pcrs[10] = log.pcr10["sha256"]
    return log, {"sha256": pcrs}


def sim_cid(host: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, host + ".acaas-bench"))


def sim_key(host: str) -> bytes:
    """A SIMULATED node's channel key (derived as registration does, from
    a made-up secret)."""
    from acaas_nova.attestation import channel

    return channel.derive_key(b"bench-secret-" + host.encode(), sim_cid(host))


def _load_conf(conf_file):
    from oslo_config import cfg

    from acaas_nova import conf as acaas_conf

    conf = cfg.ConfigOpts()
    acaas_conf.register_opts(conf)
    conf(
        ["--config-file", conf_file], project="acaas", default_config_files=[]
    )
    return conf


# -- the simulator process (SIMULATED nodes) --------------------------------


class Simulator:
    """Answers every round for every SIMULATED node it is sent."""

    target = oslo_messaging.Target(version="1.2")

    def __init__(self, key, dcs_api) -> None:
        self.key = key
        self.dcs = dcs_api
        self.channel_keys: dict[str, bytes] = {}
        self.log, self.pcrs = _sim_log()
        self._clock = int(time.monotonic() * 1000)
        self._lock = threading.Lock()
        self._senders = threading.BoundedSemaphore(4)

    @oslo_messaging.expose
    def attest_round(
        self,
        context,
        round_id=None,
        nonce=None,
        worker=None,
        selection=None,
        asks=None,
        macs=None,
    ):
        from dc_agents import messages

        round_nonce = messages.decode(nonce, "nonce")
        with self._senders:  # within oslo.messaging's connection pool
            self._answer(round_id, round_nonce, worker, asks, selection, macs)

    def _answer(self, round_id, round_nonce, worker, asks, selection, macs):
        from acaas_nova.attestation import channel
        from acaas_nova.evidence import tpm_build
        from dc_agents import messages
        from dc_agents.dcs import rounds

        for node, offset in asks.items():
            if not node.startswith(SIM_PREFIX):
                continue  # a real agent answers for itself
            key = self.channel_keys.get(node)
            if key is None:
                key = self.channel_keys[node] = sim_key(node)
            mine = rounds.node_nonce(round_nonce, worker, node)
            # What a DC-C does first: check DC-S's MAC for this node.
            request = {
                "round_id": round_id,
                "worker": worker,
                "selection": selection,
                "offset": offset,
                "mac": macs.get(node),
            }
            channel.verify(key, "attest_round", node, mine.hex(), request)
            with self._lock:  # every node's TPM clock only moves forward
                self._clock += 1
                clock = self._clock
            attest = tpm_build.quote_attest(
                mine,
                [("sha256", range(11))],
                self.pcrs,
                clock=clock,
            )
            answer = messages.quote_answer(
                sim_cid(node),
                attest,
                tpm_build.sign(self.key, attest, _scheme(self.key)),
                self.pcrs,
                self.log.text(offset),
                offset,
                None,
            )
            self.dcs.round_answer(
                worker, round_id, node, node, answer, None, key, mine
            )


def _scheme(key):
    from cryptography.hazmat.primitives.asymmetric import ec

    from acaas_nova.attestation import tpm_structs as ts

    if isinstance(key, ec.EllipticCurvePrivateKey):
        return ts.ALG_ECDSA
    return ts.ALG_RSASSA


def run_simulator(
    conf_file: str, key_file: str, index: int = 0, count: int = 1
) -> None:
    """A simulator process: answers for the SIMULATED nodes of the
    partitions ``p`` with ``p % count == index``."""
    from cryptography.hazmat.primitives import serialization

    from dc_agents import rpc
    from dc_agents.dcc import rpcapi as dcc_rpcapi
    from dc_agents.dcs import rpcapi as dcs_rpcapi

    conf = _load_conf(conf_file)
    key = serialization.load_pem_private_key(
        pathlib.Path(key_file).read_bytes(), None
    )
    transport = rpc.get_transport(conf)
    sim = Simulator(key, dcs_rpcapi.DCSAPI(conf, transport))
    servers = [
        rpc.get_server(
            conf, transport, dcc_rpcapi.round_topic(conf, p), "sim", [sim]
        )
        for p in range(conf.dcs.round_partitions)
        if p % count == index
    ]
    for server in servers:
        server.start()
    print("simulator ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    stop.wait()
    for server in servers:
        server.stop()
    for server in servers:
        server.wait()


# -- a DC-S worker process ------------------------------------------------


def run_worker(conf_file, index, count, stats_file, profile) -> None:
    from dc_agents import rpc
    from dc_agents.dcs import service

    conf = _load_conf(conf_file)
    name = "bench-worker-%d" % index
    if conf.coordination.backend_url:
        parts = "ring"  # the hash ring assigns the nodes
        conf.set_override("member_id", name, group="coordination")
    else:
        parts = [
            p for p in range(conf.dcs.round_partitions) if p % count == index
        ]
        conf.set_override("static_partitions", parts, group="dcs")
    conf.set_override("worker_name", name, group="dcs")
    transport = rpc.get_transport(conf)
    dcs = service.build(conf, transport)
    runner = dcs.wheel
    seen: set = set()
    measuring = threading.Event()
    original = runner._concluded

    def concluded(key, result):
        if measuring.is_set():
            seen.add(key[0])
        original(key, result)

    runner._concluded = concluded
    stop = threading.Event()

    def begin(*_a):
        runner.wheel.stats.max_lateness = 0.0
        seen.clear()
        measuring.set()
        if profile:
            import yappi

            yappi.set_clock_type("cpu")
            yappi.start()

    def end(*_a):
        measuring.clear()
        pathlib.Path(stats_file + ".seen").write_text(json.dumps(sorted(seen)))
        if profile:
            import yappi

            yappi.stop()
            stats = yappi.get_func_stats()
            stats.sort("tsub")
            with open(stats_file + ".profile", "w") as out:
                stats.print_all(
                    out=out,
                    columns={
                        0: ("name", 70),
                        1: ("ncall", 9),
                        2: ("tsub", 8),
                        3: ("ttot", 8),
                    },
                )

    signal.signal(signal.SIGUSR1, begin)
    signal.signal(signal.SIGUSR2, end)
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    dcs.start()
    print("worker %d ready: partitions %s" % (index, parts), flush=True)
    while not stop.wait(0.25):
        snapshot = {
            "jobs": runner.stats.jobs,
            "failures": runner.stats.failures,
            "max_lateness": runner.wheel.stats.max_lateness,
            "batch_flushes": runner.batch.flushes,
            "members": len(runner),
        }
        tmp = stats_file + ".tmp"
        pathlib.Path(tmp).write_text(json.dumps(snapshot))
        os.replace(tmp, stats_file)
    dcs.stop()


# -- the driver ---------------------------------------------------------------


def _register_simulated(conf, names, key) -> None:
    """Insert the SIMULATED nodes' registrations in bulk (what
    node_register writes for each, without a transaction per node)."""
    import datetime

    import sqlalchemy as sa

    from acaas_nova.attestation import quote
    from acaas_nova.db import api as db_api
    from acaas_nova.db import models
    from acaas_nova.evidence import tpm_build
    from dc_agents.dcs import state

    public = tpm_build.tpm2b_public(key.public_key(), scheme=_scheme(key))
    name = quote.AttestationKey.from_tpm2b_public(public).name.hex()
    initial = json.dumps(state.dump(state.NodeState()), sort_keys=True)
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    rows = [
        {
            "host": host,
            "hypervisor_hostname": host,
            "status": "unknown",
            "cid": sim_cid(host),
            "ek_fingerprint": uuid.uuid5(uuid.NAMESPACE_DNS, host).hex,
            "ak_public": public.hex(),
            "ak_name": name,
            "ak_certificate": "",
            "attestation_state": initial,
            "registered_at": now,
            "whitelists": "[]",
            "channel_key": sim_key(host).hex(),
            "channel_counter": 0,
        }
        for host in names
    ]
    engine = db_api.context_manager.writer.get_engine()
    with engine.begin() as connection:
        for i in range(0, len(rows), 1000):
            connection.execute(
                sa.insert(models.ComputeNode.__table__), rows[i : i + 1000]
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--duration", type=float, default=40.0)
    parser.add_argument("--workers", type=int, default=1, help="DC-S workers")
    parser.add_argument("--real", type=int, default=2)
    parser.add_argument(
        "--ring",
        metavar="URL",
        default="",
        help="tooz backend URL (e.g. redis://127.0.0.1:6379): the workers "
        "share the nodes on the consistent hash ring instead of static "
        "partitions",
    )
    parser.add_argument("--partitions", type=int, default=64)
    parser.add_argument(
        "--sim-ak",
        choices=("rsa2048", "ecc256"),
        default="rsa2048",
        help="AK of the SIMULATED nodes (an RSA-2048 signature costs the "
        "simulator ~1 ms, an ECC P-256 one far less; DC-S verifies RSA "
        "faster)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=300.0,
        help="longest wait for every node to be trusted before measuring",
    )
    parser.add_argument(
        "--db",
        default="mysql",
        choices=("sqlite", "mysql", "postgresql"),
        help="database backend (a throw-away database on it)",
    )
    parser.add_argument(
        "--profile",
        metavar="N",
        type=int,
        default=0,
        help="profile DC-S worker 0 (yappi); print its N costliest lines",
    )
    parser.add_argument(
        "--simulators",
        type=int,
        default=2,
        help="simulator processes (each answers for the partitions p with "
        "p %% K == its index): one is limited to one core by the GIL",
    )
    parser.add_argument("--simulator", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.simulator:
        conf_file, key_file, index, count = args.simulator
        run_simulator(conf_file, key_file, int(index), int(count))
        return 0
    if args.worker:
        conf_file, index, count, stats, profile = args.worker
        run_worker(conf_file, int(index), int(count), stats, int(profile))
        return 0
    return run(args)


def _wait_line(path, text, proc, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(
        "%s did not start: %s" % (path.name, path.read_text()[-2000:])
    )


def run(args) -> int:
    import psutil
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric import rsa

    from acaas_nova import context as acaas_context
    from acaas_nova.db import api as db_api
    from acaas_nova.db import migration
    from dc_agents.dcs import ca
    from tests.functional import databases
    from tests.functional.daemons import Cluster
    from tests.functional.swtpm import SwtpmCA
    from tests.functional.swtpm import SwtpmFactory
    from tests.functional.test_daemons import _whitelist

    # A SIGTERM (e.g. from timeout) still stops the processes started
    # here and drops the throw-away database.
    signal.signal(signal.SIGTERM, lambda *_a: sys.exit(1))
    real = min(args.real, args.nodes)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="acaas-bench-"))
    url, drop = databases.create(args.db)
    swtpm_ca = SwtpmCA(tmp / "ca")
    factory = SwtpmFactory(tmp / "swtpm", swtpm_ca, None)
    tpms = [factory.new(unique=True) for _ in range(real)]
    cluster = Cluster(
        tmp / "cluster",
        url,
        swtpm_ca.bundle_pem if real else b"",
        attestation_interval=args.interval,
        attestation_deadline=max(2.0, args.interval / 2),
        round_partitions=args.partitions,
        max_message_bytes=4 * 1024 * 1024,
    )
    procs: list[subprocess.Popen] = []
    workers: list[subprocess.Popen] = []
    try:
        conf = cluster.client_conf()
        db_api.configure(conf, force=True)
        migration.upgrade()
        ctx = acaas_context.get_admin_context()
        sim_log, _pcrs = _sim_log()
        _whitelist(ctx, sim_log.lines[0])
        if args.sim_ak == "ecc256":
            key = ec.generate_private_key(ec.SECP256R1())
        else:
            key = rsa.generate_private_key(65537, 2048)
        key_file = tmp / "sim-ak.pem"
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        simulated = [
            "%s%05d" % (SIM_PREFIX, i) for i in range(args.nodes - real)
        ]
        t0 = time.monotonic()
        _register_simulated(conf, simulated, key)
        print(
            "registered %d SIMULATED nodes in %.1fs"
            % (len(simulated), time.monotonic() - t0)
        )
        ca.load_or_create(str(cluster.base / "dcs-ca"))  # before workers race
        ring = (
            "[coordination]\nbackend_url = %s\ngroup_name = acaas-bench-%s\n"
            "heartbeat_interval = 1\nmembership_timeout = 5\n"
            % (args.ring, uuid.uuid4().hex[:8])
            if args.ring
            else ""
        )
        conf_file = str(cluster.write_conf("bench", ring))
        for i in range(args.simulators):
            sim_out = tmp / ("sim-%d.log" % i)
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        __file__,
                        "--simulator",
                        conf_file,
                        str(key_file),
                        str(i),
                        str(args.simulators),
                    ],
                    stdout=open(sim_out, "wb"),
                    stderr=subprocess.STDOUT,
                )
            )
            _wait_line(sim_out, "simulator ready", procs[-1])
        sims = [psutil.Process(p.pid) for p in procs]
        stats_files = []
        for i in range(args.workers):
            out = tmp / ("worker-%d.log" % i)
            stats = str(tmp / ("worker-%d.json" % i))
            stats_files.append(stats)
            workers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        __file__,
                        "--worker",
                        conf_file,
                        str(i),
                        str(args.workers),
                        stats,
                        str(args.profile if i == 0 else 0),
                    ],
                    stdout=open(out, "wb"),
                    stderr=subprocess.STDOUT,
                )
            )
            _wait_line(out, "worker %d ready" % i, workers[-1])
        for i in range(real):
            name = "real%d" % i
            node = cluster.add_node(name, tpms[i])
            node.boot()
            cluster.declare(name)  # no first-come host names
            cluster.start_dcc(name)
        # Warm-up: the first round (full logs, first trusted events) and
        # the real agents' registration -- until every node is trusted --
        # then one more interval; then measure the steady state.
        t0 = time.monotonic()
        while _statuses(ctx).get("trusted", 0) < args.nodes:
            if time.monotonic() - t0 > args.warmup:
                print(
                    "warm-up: not all nodes trusted after %.0fs: %s"
                    % (args.warmup, _statuses(ctx))
                )
                break
            time.sleep(1.0)
        else:
            print("warm-up: all trusted after %.1fs" % (time.monotonic() - t0))
        time.sleep(args.interval)
        ps = [psutil.Process(w.pid) for w in workers]
        for w in workers:
            w.send_signal(signal.SIGUSR1)
        time.sleep(0.5)
        before = [_read(f) for f in stats_files]
        cpu0 = sum(sum(p.cpu_times()[:2]) for p in ps)
        sim0 = sum(sum(p.cpu_times()[:2]) for p in sims)
        start = time.monotonic()
        time.sleep(args.duration)
        cpu = sum(sum(p.cpu_times()[:2]) for p in ps) - cpu0
        sim_cpu = sum(sum(p.cpu_times()[:2]) for p in sims) - sim0
        elapsed = time.monotonic() - start
        after = [_read(f) for f in stats_files]
        for w in workers:
            w.send_signal(signal.SIGUSR2)
        time.sleep(1.0)
        jobs = sum(
            a["jobs"] - b["jobs"] for a, b in zip(after, before, strict=True)
        )
        failures = sum(
            a["failures"] - b["failures"]
            for a, b in zip(after, before, strict=True)
        )
        late = max(a["max_lateness"] for a in after)
        seen = [
            set(json.loads(pathlib.Path(f + ".seen").read_text()))
            for f in stats_files
        ]
        double = len(
            {
                n
                for i, a in enumerate(seen)
                for b in seen[i + 1 :]
                for n in a & b
            }
        )
        per_worker = [
            "%d" % (a["jobs"] - b["jobs"])
            for a, b in zip(after, before, strict=True)
        ]
        statuses = _statuses(ctx)
        if args.profile:
            lines = pathlib.Path(stats_files[0] + ".profile").read_text()
            print("profile of DC-S worker 0 (yappi, CPU, by own time):")
            print("\n".join(lines.splitlines()[: args.profile + 6]))
    finally:
        for proc in workers + procs:
            proc.send_signal(signal.SIGTERM)
        for proc in workers + procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        cluster.stop_all()
        factory.stop_all()
        db_api.dispose()
        drop()
    rate = jobs / elapsed
    cpu_ms = 1000.0 * cpu / max(jobs, 1)
    expected = args.nodes / args.interval
    print(
        "nodes: %d (%d real swtpm-backed DC-C agents, %d SIMULATED by %d "
        "process(es) with software-signed %s quotes), all over RabbitMQ"
        % (args.nodes, real, args.nodes - real, args.simulators, args.sim_ak)
    )
    print(
        "simulator CPU (not DC-S's): %.0f%% of one core in all"
        % (100.0 * sim_cpu / elapsed)
    )
    print("node status at the end: %s" % statuses)
    print(
        "interval %.1fs, duration %.0fs, database %s, %d DC-S worker(s) "
        "(attestations per worker: %s), %d partitions"
        % (
            args.interval,
            elapsed,
            args.db,
            args.workers,
            ", ".join(per_worker),
            args.partitions,
        )
    )
    print(
        "attestations: %d (%.1f/s, schedule asks %.1f/s), not concluded %d"
        % (jobs, rate, expected, failures)
    )
    print(
        "DC-S CPU (worker processes only): %.3f ms per attestation "
        "(%.0f%% of one core in all)" % (cpu_ms, 100.0 * cpu / elapsed)
    )
    print(
        "round timer lateness: max %.3fs (limit: one interval, %.1fs)"
        % (late, args.interval)
    )
    capacity = 1000.0 / cpu_ms if cpu_ms else float("inf")
    print(
        "Keylime's bare-metal verifier: ~%.0f quotes/s (verification only)."
        " One DC-S core, end to end (messaging + verification + database),"
        " would saturate at ~%.0f attestations/s (%.2fx Keylime's figure)"
        % (KEYLIME_QUOTES_PER_S, capacity, capacity / KEYLIME_QUOTES_PER_S)
    )
    print(
        "RESULT nodes=%d workers=%d attestations_per_s=%.1f "
        "cpu_ms_per_attestation=%.3f max_lateness_s=%.3f double_attested=%d"
        % (args.nodes, args.workers, rate, cpu_ms, late, double)
    )
    return 0


def _read(path):
    deadline = time.monotonic() + 10
    while True:
        try:
            return json.loads(pathlib.Path(path).read_text())
        except (OSError, ValueError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _statuses(ctx) -> dict[str, int]:
    from acaas_nova.db import nodes as nodes_db

    return nodes_db.status_counts(ctx)


if __name__ == "__main__":
    os.environ.setdefault("TSS2_LOG", "all+none")
    sys.exit(main())
