"""Load benchmark of DC-S: one DC-S attesting N nodes at a fixed interval.

    python benchmarks/attest_load.py --nodes 1000 --interval 10 --duration 60

DC-S runs in this process (its timer wheel, workers, verification and
database writes are the real code).  ``--real`` nodes (default 5) are
real DC-C agents (``acaas-dcc`` subprocesses) on real swtpm TPMs, reached
over RabbitMQ.  The others are *simulated*: one simulator subprocess
answers for all of them over RabbitMQ with quotes signed in software
(RSA-2048 AK, the TPM's RSASSA format, built with
``acaas_nova.evidence.tpm_build``) over fresh nonces and an IMA log of
a few entries; so every attestation still costs DC-S an RPC round trip,
a quote verification, an incremental log check and a database write.

Prints attestations/s, DC-S CPU per attestation (this process only: the
agents and the simulator run elsewhere), and how late the timers ran,
next to the bare-metal verifier throughput Keylime reports (~2,500
quotes/s).  Last line::

    RESULT nodes=<N> attestations_per_s=<x> cpu_ms_per_attestation=<y> \
max_lateness_s=<z>

Needs RabbitMQ at 127.0.0.1:5672 (guest/guest) and swtpm for real agents.
"""

import argparse
import os
import pathlib
import resource
import shutil
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
SIM_TOPIC_SUFFIX = "-sim"


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


# -- the simulator process ------------------------------------------------


class Simulator:
    """RPC endpoint answering ``quote`` for every simulated node."""

    target = oslo_messaging.Target(version="1.0")

    def __init__(self, key) -> None:
        self.key = key
        self.log, self.pcrs = _sim_log()
        self._clock = int(time.monotonic() * 1000)
        self._lock = threading.Lock()

    @oslo_messaging.expose
    def quote(
        self, context, node=None, nonce=None, selection=None, ima_offset=0
    ):
        from acaas_nova.evidence import tpm_build
        from dc_agents import messages

        with self._lock:  # every node's TPM clock only moves forward
            self._clock += 1
            clock = self._clock
        attest = tpm_build.quote_attest(
            messages.decode(nonce, "nonce"),
            [("sha256", range(11))],
            self.pcrs,
            clock=clock,
        )
        return messages.quote_answer(
            sim_cid(node),
            attest,
            tpm_build.sign(self.key, attest),
            self.pcrs,
            self.log.text(ima_offset),
            ima_offset,
            None,
        )


def run_simulator(conf_file: str, key_file: str) -> None:
    from cryptography.hazmat.primitives import serialization
    from oslo_config import cfg

    from acaas_nova import conf as acaas_conf
    from dc_agents import rpc

    conf = cfg.ConfigOpts()
    acaas_conf.register_opts(conf)
    conf(["--config-file", conf_file], project="acaas")
    key = serialization.load_pem_private_key(
        pathlib.Path(key_file).read_bytes(), None
    )
    transport = rpc.get_transport(conf)
    sim = Simulator(key)
    server = rpc.get_server(
        conf, transport, conf.dcc.topic + SIM_TOPIC_SUFFIX, "sim", [sim]
    )
    server.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        server.wait()


# -- DC-S side ---------------------------------------------------------


class RoutingClient:
    """DCCAPI for real nodes, the simulator's topic for the others."""

    def __init__(self, conf, transport, real: set[str]) -> None:
        from dc_agents.dcc import rpcapi

        self.real = real
        self.real_api = rpcapi.DCCAPI(conf, transport)
        self.sim = oslo_messaging.get_rpc_client(
            transport,
            oslo_messaging.Target(topic=conf.dcc.topic + SIM_TOPIC_SUFFIX),
        )

    def quote(self, host, hv, nonce, selection, ima_offset, timeout):
        from dc_agents import messages

        if host in self.real:
            return self.real_api.quote(
                host, hv, nonce, selection, ima_offset, timeout
            )
        return self.sim.prepare(timeout=timeout).call(
            {},
            "quote",
            node=host,
            nonce=messages.encode(nonce),
            selection=selection,
            ima_offset=ima_offset,
        )


def _register_simulated(ctx, names, key) -> None:
    from acaas_nova.attestation import quote
    from acaas_nova.db import attestation as attestation_db
    from acaas_nova.evidence import tpm_build
    from dc_agents.dcs import state

    public = tpm_build.tpm2b_public(key.public_key())
    name = quote.AttestationKey.from_tpm2b_public(public).name.hex()
    initial = state.dump(state.NodeState())
    for host in names:
        attestation_db.node_register(
            ctx,
            host,
            host,
            sim_cid(host),
            uuid.uuid5(uuid.NAMESPACE_DNS, host).hex,
            public,
            name,
            "",
            initial,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--real", type=int, default=5)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument(
        "--db",
        default="sqlite",
        choices=("sqlite", "mysql"),
        help="database backend (a throw-away database)",
    )
    parser.add_argument(
        "--profile",
        metavar="N",
        type=int,
        default=0,
        help="profile DC-S (yappi, CPU time, all threads); print N lines",
    )
    parser.add_argument("--simulator", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.simulator:
        run_simulator(*args.simulator)
        return 0
    return run(args)


def run(args) -> int:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from acaas_nova import context as acaas_context
    from acaas_nova.db import api as db_api
    from acaas_nova.db import migration
    from dc_agents import rpc
    from dc_agents.dcs import service
    from tests.functional import databases
    from tests.functional.daemons import Cluster
    from tests.functional.swtpm import SwtpmCA
    from tests.functional.swtpm import SwtpmFactory
    from tests.functional.test_daemons import _whitelist

    real = min(args.real, args.nodes)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="acaas-bench-"))
    url, drop = databases.create(args.db)
    ca = SwtpmCA(tmp / "ca")
    factory = SwtpmFactory(tmp / "swtpm", ca, None)
    tpms = [factory.new(unique=True) for _ in range(real)]  # makes the CA
    cluster = Cluster(
        tmp / "cluster",
        url,
        ca.bundle_pem if real else b"",
        attestation_interval=args.interval,
        attestation_deadline=max(2.0, args.interval / 2),
        attestation_workers=args.workers,
        max_message_bytes=4 * 1024 * 1024,
    )
    sim_proc = server = wheel = None
    try:
        conf = cluster.client_conf()
        db_api.configure(conf, force=True)
        migration.upgrade()
        ctx = acaas_context.get_admin_context()
        sim_log, _pcrs = _sim_log()
        _whitelist(ctx, sim_log.lines[0])
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_file = tmp / "sim-ak.pem"
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        simulated = ["sim%04d" % i for i in range(args.nodes - real)]
        t0 = time.monotonic()
        _register_simulated(ctx, simulated, key)
        print(
            "registered %d simulated nodes in %.1fs"
            % (len(simulated), time.monotonic() - t0)
        )
        sim_proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--simulator",
                str(cluster.write_conf("sim")),
                str(key_file),
            ],
            stdout=open(tmp / "sim.log", "wb"),
            stderr=subprocess.STDOUT,
        )
        transport = rpc.get_transport(conf)
        reals = {"real%d" % i for i in range(real)}
        client = RoutingClient(conf, transport, reals)
        if simulated:
            _wait_for_simulator(client, simulated[0])
        server, wheel = service.build(conf, transport, client)
        server.start()
        wheel.start()
        for name in sorted(reals):
            node = cluster.add_node(name, tpms[int(name[4:])])
            node.boot()
            cluster.start_dcc(name)
        # Warm-up: the first round (full logs, first trusted events) and
        # the real agents' registration; then measure the steady state.
        time.sleep(max(5.0, args.interval))
        jobs0, lat0 = wheel.stats.jobs, wheel.stats.max_lateness
        wheel.stats.max_lateness = 0.0
        if args.profile:
            import yappi

            yappi.set_clock_type("cpu")
            yappi.start()
        cpu0 = _cpu()
        start = time.monotonic()
        time.sleep(args.duration)
        elapsed = time.monotonic() - start
        cpu = _cpu() - cpu0
        if args.profile:
            yappi.stop()
            stats = yappi.get_func_stats()
            stats.sort("tsub")
            stats.print_all(
                columns={
                    0: ("name", 60),
                    1: ("ncall", 9),
                    2: ("tsub", 8),
                    3: ("ttot", 8),
                },
            )
        jobs = wheel.stats.jobs - jobs0
        failures = wheel.stats.failures
        late = wheel.stats.max_lateness
        print("warm-up: %d attestations, max lateness %.3fs" % (jobs0, lat0))
        statuses = _statuses(ctx)
    finally:
        if wheel is not None:
            wheel.stop()
        if server is not None:
            server.stop()
            server.wait()
        if sim_proc is not None:
            sim_proc.terminate()
            sim_proc.wait(timeout=10)
        cluster.stop_all()
        factory.stop_all()
        db_api.dispose()
        drop()
        shutil.rmtree(tmp, ignore_errors=True)
    rate = jobs / elapsed
    cpu_ms = 1000.0 * cpu / max(jobs, 1)
    expected = args.nodes / args.interval
    print(
        "nodes: %d (%d real swtpm-backed DC-C agents over RabbitMQ, %d "
        "simulated with software-signed quotes over RabbitMQ)"
        % (args.nodes, real, args.nodes - real)
    )
    print("node status at the end: %s" % statuses)
    print(
        "interval %.1fs, duration %.0fs, database %s, %d workers"
        % (args.interval, elapsed, args.db, args.workers)
    )
    print(
        "attestations: %d (%.1f/s, schedule asks %.1f/s), failed jobs %d"
        % (jobs, rate, expected, failures)
    )
    print(
        "DC-S CPU: %.2f ms per attestation (%.0f%% of one core)"
        % (cpu_ms, 100.0 * cpu / elapsed)
    )
    print(
        "timer lateness: max %.3fs (limit: one interval, %.1fs)"
        % (late, args.interval)
    )
    # One DC-S process runs Python on about one core (the GIL).
    capacity = 1000.0 / cpu_ms if cpu_ms else float("inf")
    print(
        "Keylime's bare-metal verifier: ~%.0f quotes/s (verification only)."
        " This DC-S, end to end (RPC round trip + verification + database"
        " write), would saturate its one core at ~%.0f attestations/s"
        " (%.2fx Keylime's figure)"
        % (KEYLIME_QUOTES_PER_S, capacity, capacity / KEYLIME_QUOTES_PER_S)
    )
    print(
        "RESULT nodes=%d attestations_per_s=%.1f cpu_ms_per_attestation=%.2f "
        "max_lateness_s=%.3f" % (args.nodes, rate, cpu_ms, late)
    )
    return 0


def _wait_for_simulator(client, node, timeout=60.0) -> None:
    """Until the simulator's queue exists, requests to it are dropped."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.quote(node, node, os.urandom(32), {}, 0, 2.0)
            return
        except oslo_messaging.MessagingTimeout:
            if time.monotonic() > deadline:
                raise


def _statuses(ctx) -> dict[str, int]:
    from acaas_nova.db import nodes as nodes_db

    counts: dict[str, int] = {}
    for node in nodes_db.node_list(ctx):
        counts[node.status] = counts.get(node.status, 0) + 1
    return counts


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    os.environ.setdefault("TSS2_LOG", "all+none")
    sys.exit(main())
