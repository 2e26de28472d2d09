"""The messaging floor of DC-S: CPU per consumed message, no work done.

    python benchmarks/messaging_floor.py --messages 5000

Every attestation costs DC-S at least one consumed message (the node's
answer).  This measures what oslo.messaging alone costs per message on
RabbitMQ (127.0.0.1:5672, guest/guest), in a consumer process that does
nothing with the messages, for payloads the size of a round answer:

* ``rpc_cast``: an RPC server (threading executor, as acaas-dcs runs)
  consuming casts -- how round answers arrive today;
* ``batch_notifications``: a batch notification listener (batches of up to
  200) consuming notifications -- the cheapest consumer oslo.messaging
  offers.

The sender runs in this process; CPU is measured in the consumer's process
only (getrusage, after it is ready).  Compare with ``attest_load.py``'s
``cpu_ms_per_attestation``: what is above the floor is DC-S's own work.
Last line::

    RESULT rpc_cast_ms=<a> batch_notifications_ms=<b> ratio=<a/b>
"""

import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys
import threading
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

URL = "rabbit://guest:guest@127.0.0.1:5672/"
#: About a round answer: quote, signature, 11 PCRs, a few log lines, MAC.
PAYLOAD = {
    "attest": "A" * 200,
    "signature": "S" * 350,
    "pcrs": {"sha256": {str(i): "P" * 44 for i in range(11)}},
    "ima_log": "L" * 300,
    "mac": "M" * 64,
}


def _conf():
    from oslo_config import cfg

    from dc_agents import rpc

    conf = cfg.ConfigOpts()
    conf([], project="acaas-bench", default_config_files=[])
    return conf, rpc.get_transport(conf, url=URL)


def consume(kind: str, topic: str, count: int) -> None:
    """The consumer process: print ``ready``, then its CPU per message."""
    import oslo_messaging

    conf, transport = _conf()
    got, done = [0], threading.Event()

    def seen(n):
        got[0] += n
        if got[0] >= count:
            done.set()

    if kind == "rpc_cast":

        class Endpoint:
            target = oslo_messaging.Target(version="1.0")

            def answer(self, ctx, **kwargs):
                seen(1)

        server = oslo_messaging.get_rpc_server(
            transport,
            oslo_messaging.Target(topic=topic, server="floor"),
            [Endpoint()],
        )
    else:

        class Endpoint:  # noqa: F811
            def info(self, messages):
                seen(len(messages))

        notif = oslo_messaging.get_notification_transport(conf, url=URL)
        server = oslo_messaging.get_batch_notification_listener(
            notif,
            [oslo_messaging.Target(topic=topic)],
            [Endpoint()],
            batch_size=200,
            batch_timeout=0.2,
        )
    server.start()
    start = resource.getrusage(resource.RUSAGE_SELF)
    print("ready", flush=True)
    finished = done.wait(600)
    end = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (end.ru_utime + end.ru_stime) - (start.ru_utime + start.ru_stime)
    print(json.dumps({"ok": finished, "cpu_ms": cpu * 1e3 / count}))
    server.stop()
    server.wait()


def send(kind: str, topic: str, count: int) -> None:
    import oslo_messaging

    conf, transport = _conf()
    if kind == "rpc_cast":
        client = oslo_messaging.get_rpc_client(
            transport,
            oslo_messaging.Target(topic=topic, server="floor", version="1.0"),
        )
        for i in range(count):
            client.cast({}, "answer", host="node%d" % i, answer=PAYLOAD)
    else:
        notif = oslo_messaging.get_notification_transport(conf, url=URL)
        notifier = oslo_messaging.Notifier(
            notif, driver="messaging", topics=[topic], publisher_id="bench"
        )
        for _ in range(count):
            notifier.info({}, "answer", PAYLOAD)
    transport.cleanup()


def measure(kind: str, count: int) -> float:
    topic = "acaas-floor-%s" % uuid.uuid4().hex[:8]
    proc = subprocess.Popen(
        [sys.executable, __file__, "--consume", kind, topic, str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    try:
        if proc.stdout.readline().strip() != "ready":
            raise SystemExit("%s consumer did not start" % kind)
        send(kind, topic, count)
        result = json.loads(proc.stdout.readline())
    finally:
        proc.wait(60)
    if not result["ok"]:
        raise SystemExit("%s: not every message arrived" % kind)
    return result["cpu_ms"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--consume", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.consume:
        kind, topic, count = args.consume
        consume(kind, topic, int(count))
        return 0
    cast = measure("rpc_cast", args.messages)
    batch = measure("batch_notifications", args.messages)
    print("RPC casts (threading executor): %.3f ms CPU per message" % cast)
    print("batch notification listener:   %.3f ms CPU per message" % batch)
    print(
        "RESULT rpc_cast_ms=%.3f batch_notifications_ms=%.3f ratio=%.2f"
        % (cast, batch, cast / batch)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
