"""Per-host cost of ACaaSFilter (+ ACaaSWeigher) against nova's own filters.

Runs nova's own filter handler (``HostFilterHandler.get_filtered_objects``)
and weight handler over the same N host states for M requests, and prints,
measured in the same run, the per-host cost of:

* ACaaSFilter + ACaaSWeigher (every kind of ``acaas:`` requirement active:
  location with max_distance, white-list, excluded users and projects,
  capability, allow_emergency, and exclusive isolation on every fourth
  request), reading a real acaas-nova database (temporary SQLite file):
  snapshot (with the isolation records) refreshed by age, the isolation
  look-up from memory, and one trust record per request put on the
  write-behind queue;
* the per-request fixed cost (the same requests over a single host) and
  the marginal cost per host;
* the write path: the queue's flush of all the run's records (one
  transaction, off the scheduling path) and, as its baseline, the
  synchronous per-request write the filter used to do
  (``instance_trust_set``, one transaction per record);
* nova's AggregateMultiTenancyIsolation (the baseline of the ratio) and
  AggregateInstanceExtraSpecsFilter, with every host in three aggregates
  whose metadata carries tenant lists and extra-spec keys.

Usage: ``python benchmarks/filter_bench.py [--hosts N] [--requests M]``.
Without --hosts it runs 1,000 and then 10,000 hosts.  The last line is::

    RESULT hosts=<N> acaas_us_per_host=<x> tenancy_us_per_host=<y>
    extraspecs_us_per_host=<z> ratio_vs_tenancy=<r> ms_per_request=<m>
    fixed_ms_per_request=<f> marginal_us_per_host=<h>
    queued_write_us_per_record=<q> sync_write_us_per_record=<s>
    write_ratio_vs_sync=<w>

(on one line).  Goals: ratio <= 0.5, fixed cost <= 1 ms per request,
<= 2 us per host, < 20 ms per request at 10,000 hosts; the queued write
path (submit + its share of the batched flush) well below the synchronous
write it replaced.
"""

import argparse
import datetime
import logging
import os
import random
import sys
import tempfile
import time
import uuid

from nova import objects
from nova.scheduler import filters as nova_filters
from nova.scheduler import host_manager
from nova.scheduler import weights as nova_weights
from nova.scheduler.filters import aggregate_instance_extra_specs as aies
from nova.scheduler.filters import aggregate_multitenancy_isolation as amti
from oslo_config import cfg

from acaas_nova import conf as acaas_conf
from acaas_nova import context as acaas_context
from acaas_nova.db import api as db_api
from acaas_nova.db import domains as domains_db
from acaas_nova.db import instances as instances_db
from acaas_nova.db import locations as locations_db
from acaas_nova.db import migration
from acaas_nova.db import nodes as nodes_db
from acaas_nova.db import records
from acaas_nova.scheduler import precedence
from acaas_nova.scheduler import request as request_mod
from acaas_nova.scheduler import runtime
from acaas_nova.scheduler.filters import acaas_filter
from acaas_nova.scheduler.weighers import acaas_weigher

LOCATIONS = ["UK", "FR", "DE", "NL", "US"]
DOMAINS_PER_LOCATION = 4
INSTANCES_PER_HOST = 8
USERS = ["user-%d" % i for i in range(2000)]
PROJECTS = ["project-%d" % i for i in range(500)]
AGGREGATES = 60
AGGREGATES_PER_HOST = 3


def build_database(hosts: list[str], rng: random.Random) -> None:
    """Locations, domains and attested nodes, in one transaction."""
    ctx = acaas_context.get_admin_context()
    now = datetime.datetime.now(datetime.UTC)
    with db_api.context_manager.writer.using(ctx):
        for loc in LOCATIONS:
            locations_db.location_create(ctx, loc)
        for i, a in enumerate(LOCATIONS):
            for b in LOCATIONS[i + 1 :]:
                distance = 60 if "US" in (a, b) else rng.randint(2, 12)
                locations_db.distance_set(ctx, a, b, distance)
        domains = []
        for loc in LOCATIONS:
            for d in range(DOMAINS_PER_LOCATION):
                name = "%s-%d" % (loc.lower(), d)
                source = "emergency" if loc == "US" else "local"
                domains_db.domain_create(ctx, name, loc, source=source)
                domains.append(name)
        for i, host in enumerate(hosts):
            nodes_db.node_create(ctx, host, host, domain=domains[i % 20])
            whitelists = ("gold", "silver") if i % 5 else ("silver",)
            status = "untrusted" if i % 50 == 7 else "trusted"
            nodes_db.node_set_trust(
                ctx, host, host, status, whitelists, attested_at=now
            )
            if i % 3 == 0:
                nodes_db.property_add(ctx, host, host, "ssd", "yes")
        # Earlier servers that constrain their neighbours.
        for i in range(200):
            instances_db.instance_trust_set(
                ctx,
                records.InstanceTrust(
                    instance_uuid=str(uuid.UUID(int=rng.getrandbits(128))),
                    project_id=rng.choice(PROJECTS),
                    user_id=rng.choice(USERS),
                    exclude_users=(rng.choice(USERS),),
                    exclusive=i % 10 == 0,
                ),
            )


def build_aggregates(rng: random.Random) -> list:
    aggregates = []
    for i in range(AGGREGATES):
        metadata = {
            "availability_zone": "az-%d" % (i % 3),
            "ssd": rng.choice(["true", "false"]),
            "hypervisor": "kvm",
            "cpu_arch": "x86_64",
            "net": rng.choice(["10g", "25g"]),
            "rack": "r%d" % i,
        }
        for t in range(i % 3):
            metadata["filter_tenant_id_%d" % t] = ",".join(
                rng.sample(PROJECTS, 5)
            )
        aggregates.append(
            objects.Aggregate(id=i, name="agg-%d" % i, metadata=metadata)
        )
    return aggregates


def build_host_states(hosts, aggregates, rng):
    states = []
    for host in hosts:
        state = host_manager.HostState(host, host, None)
        state.aggregates = rng.sample(aggregates, AGGREGATES_PER_HOST)
        state.instances = {}
        for _ in range(INSTANCES_PER_HOST):
            inst_uuid = str(uuid.UUID(int=rng.getrandbits(128)))
            state.instances[inst_uuid] = objects.Instance(
                uuid=inst_uuid,
                user_id=rng.choice(USERS),
                project_id=rng.choice(PROJECTS),
            )
        states.append(state)
    return states


def build_requests(count: int, rng: random.Random) -> list:
    specs = []
    for i in range(count):
        hints = {
            "acaas:location": [rng.choice(LOCATIONS[:4])],
            "acaas:max_distance": ["6"],
            "acaas:whitelist": ["gold"],
            "acaas:exclude_users": [",".join(rng.sample(USERS, 3))],
            "acaas:exclude_projects": [rng.choice(PROJECTS)],
            "acaas:allow_emergency": ["false"],
        }
        if i % 4 == 0:
            hints["acaas:isolation"] = ["exclusive"]
        extra_specs = {
            "acaas:capability:ssd": "yes",
            "aggregate_instance_extra_specs:hypervisor": "kvm",
            "aggregate_instance_extra_specs:cpu_arch": "x86_64",
        }
        specs.append(
            objects.RequestSpec(
                instance_uuid=str(uuid.UUID(int=rng.getrandbits(128))),
                project_id=rng.choice(PROJECTS),
                user_id=rng.choice(USERS),
                scheduler_hints=hints,
                flavor=objects.Flavor(extra_specs=extra_specs),
                num_instances=1,
            )
        )
    return specs


# CPU time of this process for the scheduling paths: the machine running
# the benchmark may be busy with other work, which wall-clock time would
# charge to whichever filter ran at the wrong moment.  The write path waits
# on I/O and is timed by the wall clock.
cpu = time.process_time


def time_filter(handler, flt, states, specs) -> tuple[float, list]:
    passed = []
    start = cpu()
    for spec in specs:
        passed.append(handler.get_filtered_objects([flt], states, spec))
    return cpu() - start, passed


def run(n_hosts: int, n_requests: int, workdir: str) -> str:
    rng = random.Random(n_hosts)
    conf = cfg.ConfigOpts()
    acaas_conf.register_opts(conf)
    conf([], project="acaas", default_config_files=[])
    db_file = os.path.join(workdir, "bench-%d.sqlite" % n_hosts)
    conf.set_override(
        "connection", "sqlite:///" + db_file, group="acaas_database"
    )
    conf.set_override("snapshot_max_age", 60.0, group="acaas")
    # Flush after the timed loop (measured on its own below).
    conf.set_override("record_flush_interval", 3600.0, group="acaas")
    conf.set_override("record_batch_size", 100_000, group="acaas")
    conf.set_override("record_queue_size", 100_000, group="acaas")
    db_api.configure(conf, force=True)
    migration.upgrade()
    hosts = ["compute-%05d" % i for i in range(n_hosts)]
    t0 = time.perf_counter()
    build_database(hosts, rng)
    print(
        "hosts=%d: database built in %.1fs"
        % (n_hosts, time.perf_counter() - t0)
    )
    aggregates = build_aggregates(rng)
    states = build_host_states(hosts, aggregates, rng)
    specs = build_requests(n_requests, rng)

    runtime.reset()
    rt = runtime.Runtime(conf)
    acaas = acaas_filter.ACaaSFilter(runtime=rt)
    weigher = acaas_weigher.ACaaSWeigher(runtime=rt)
    handler = nova_filters.HostFilterHandler()
    weight_handler = nova_weights.HostWeightHandler()
    rt.snapshots.topology()  # the age-based refresh, outside the loop

    tenancy_s, _ = time_filter(
        handler, amti.AggregateMultiTenancyIsolation(), states, specs
    )
    extra_s, _ = time_filter(
        handler, aies.AggregateInstanceExtraSpecsFilter(), states, specs
    )
    filter_s = weigh_s = 0.0
    passed_total = 0
    for spec in specs:
        t0 = cpu()
        passed = handler.get_filtered_objects([acaas], states, spec)
        t1 = cpu()
        weight_handler.get_weighed_objects([weigher], passed, spec)
        t2 = cpu()
        filter_s += t1 - t0
        weigh_s += t2 - t1
        passed_total += len(passed)
    acaas_s = filter_s + weigh_s

    # The write path: everything queued above, flushed in one go ...
    queued = rt.recorder.pending_count()
    t0 = time.perf_counter()
    assert rt.recorder.flush()
    flush_s = time.perf_counter() - t0
    # ... against the synchronous write per request it replaced.
    ctx = acaas_context.get_admin_context()
    sync_records = [
        request_mod.trust_record(
            request_mod.requester_of(spec),
            precedence.resolve(
                request_mod.hints_of(spec), request_mod.extra_specs_of(spec)
            ),
        )
        for spec in build_requests(n_requests, random.Random(-n_hosts))
    ]
    t0 = time.perf_counter()
    for record in sync_records:
        instances_db.instance_trust_set(ctx, record)
    sync_s = time.perf_counter() - t0

    # Fixed cost: the same requests over one host (each a new instance).
    one_host = states[:1]
    fixed_specs = build_requests(n_requests, random.Random(n_hosts + 1))
    t0 = cpu()
    for spec in fixed_specs:
        passed = handler.get_filtered_objects([acaas], one_host, spec)
        weight_handler.get_weighed_objects([weigher], passed or [], spec)
    fixed_s = (cpu() - t0) / n_requests
    rt.stop()

    per = 1e6 / (n_hosts * n_requests)
    acaas_us, tenancy_us, extra_us = (
        acaas_s * per,
        tenancy_s * per,
        extra_s * per,
    )
    print(
        "hosts=%d requests=%d: ACaaS passed %.1f hosts per request on "
        "average; per request: filter %.2f ms (its DB work included), "
        "weigher through nova's weight handler %.2f ms"
        % (
            n_hosts,
            n_requests,
            passed_total / n_requests,
            filter_s * 1000 / n_requests,
            weigh_s * 1000 / n_requests,
        )
    )
    per_request_s = acaas_s / n_requests
    marginal_us = (per_request_s - fixed_s) * 1e6 / max(n_hosts - 1, 1)
    # The submit is inside the filter's time; add its share of the flush.
    queued_us = flush_s * 1e6 / max(queued, 1)
    sync_us = sync_s * 1e6 / len(sync_records)
    print(
        "hosts=%d: write path: %d records flushed in one transaction in "
        "%.1f ms (%.1f us per record, off the scheduling path); the "
        "synchronous write per request it replaced: %.1f us per record"
        % (n_hosts, queued, flush_s * 1000, queued_us, sync_us)
    )
    db_api.dispose()
    return (
        "RESULT hosts=%d acaas_us_per_host=%.3f tenancy_us_per_host=%.3f "
        "extraspecs_us_per_host=%.3f ratio_vs_tenancy=%.3f "
        "ms_per_request=%.3f fixed_ms_per_request=%.3f "
        "marginal_us_per_host=%.3f queued_write_us_per_record=%.1f "
        "sync_write_us_per_record=%.1f write_ratio_vs_sync=%.3f"
        % (
            n_hosts,
            acaas_us,
            tenancy_us,
            extra_us,
            acaas_us / tenancy_us,
            per_request_s * 1000,
            fixed_s * 1000,
            marginal_us,
            queued_us,
            sync_us,
            queued_us / sync_us,
        )
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, action="append")
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    objects.register_all()
    results = []
    with tempfile.TemporaryDirectory(prefix="acaas-bench-") as workdir:
        for n_hosts in args.hosts or [1000, 10000]:
            results.append(run(n_hosts, args.requests, workdir))
            print(results[-1])
    # The machine-readable summary of the largest run comes last.
    print(results[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
