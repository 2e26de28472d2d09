"""acaas-demo: the whole system, end to end, in one command.

By default everything runs in this process on the embedded defaults:
acaas-nova's database is a temporary SQLite file and DC-S and the DC-C
agents talk over oslo.messaging's in-process transport.  With
``--transport-url rabbit://...`` DC-S and every DC-C run as their own
``acaas-dcs`` / ``acaas-dcc`` processes; ``--database-connection`` puts
acaas-nova's database on a real server (an empty database).  The exit
code is 0 only if every step behaved as described; the last line is::

    RESULT nodes=<n> servers=<s> placed_ok=<k> untrusted_after_s=<x> \
moved=<m> left_on_bad=<z> seconds=<t>
"""

import argparse
import logging
import os
import shutil
import signal
import sys
import tempfile
import traceback
from pathlib import Path

from acaas_nova import exception
from acaas_nova.demo import tables

STEPS = 8
#: oslo.messaging drivers: the in-process one, or a real broker's.
TRANSPORTS = ("fake", "rabbit", "kafka", "amqp")


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="acaas-demo",
        description="Attested nodes, servers placed by their requirements, "
        "a node compromised and its servers moved: acaas-nova end to end.",
    )
    parser.add_argument(
        "--transport-url",
        default="fake://",
        help="oslo.messaging transport of DC-S and DC-C (default fake://: "
        "in-process, daemons as threads; rabbit://...: daemons as "
        "acaas-dcs/acaas-dcc processes)",
    )
    parser.add_argument(
        "--database-connection",
        help="acaas-nova's database, empty (default: a temporary SQLite file)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the demo's folder (config files, daemon logs, TPM "
        "states) and print where it is",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="print log messages at debug level (nova's own are captured "
        "by its fixtures) and the traceback of an unexpected error",
    )
    return parser.parse_args(argv)


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # nova runs natively threaded here, never under eventlet (it must be
    # decided before anything imports nova).
    os.environ.setdefault("OS_NOVA_DISABLE_EVENTLET_PATCHING", "1")
    # SIGTERM stops the demo like Ctrl-C: its daemons and swtpms are
    # stopped on the way out.
    signal.signal(signal.SIGTERM, _interrupt)
    screen = tables.Screen(total_steps=STEPS)
    base = Path(tempfile.mkdtemp(prefix="acaas-demo-"))
    result: dict = {}
    try:
        code = _run(args, screen, base, result)
    except exception.ACaaSException as exc:
        screen.write("acaas-demo: error: %s" % exc)
        code = exc.exit_code
    except KeyboardInterrupt:
        screen.write(
            "acaas-demo: interrupted (everything it started is stopped)"
        )
        code = 130
    except Exception as exc:  # noqa: BLE001 -- one line, never a traceback
        if args.debug:
            traceback.print_exc()
        screen.write(
            "acaas-demo: error: unexpected %s: %s"
            % (type(exc).__name__, str(exc).strip().splitlines()[:1])
        )
        code = 1
    finally:
        if args.keep:
            screen.write("acaas-demo: its folder is kept: %s" % base)
        else:
            shutil.rmtree(base, ignore_errors=True)
    screen.write(tables.result_line(result, screen.elapsed()))
    return code


def check_urls(args) -> None:
    """A clear one-line error for a URL the demo cannot use (checked
    before anything imports oslo.messaging: nova must come first)."""
    import sqlalchemy

    scheme, sep, _rest = args.transport_url.partition("://")
    if not sep or scheme not in TRANSPORTS:
        raise exception.Invalid(
            reason="--transport-url %s: expected %s"
            % (
                args.transport_url,
                " or ".join("%s://..." % t for t in TRANSPORTS),
            )
        )
    if args.database_connection:
        try:
            sqlalchemy.engine.make_url(args.database_connection)
        except sqlalchemy.exc.ArgumentError as exc:
            raise exception.Invalid(
                reason="--database-connection: %s" % exc
            ) from None


def _quiet_logs(debug: bool) -> None:
    """Only errors reach the screen, on stderr (nova's test code sets up
    oslo.log on stdout when imported); ``--debug`` shows everything."""
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "stream", None) is sys.stdout:
            handler.setStream(sys.stderr)
    level = logging.DEBUG if debug else logging.ERROR
    root.setLevel(level)
    for name in ("alembic", "nova"):
        logging.getLogger(name).setLevel(level)


def _run(args, screen, base: Path, result: dict) -> int:
    from acaas_nova.demo import nodes as nodes_mod
    from acaas_nova.demo import world

    check_urls(args)
    names = [node[0] for node in nodes_mod.NODES]
    db_url = args.database_connection or "sqlite:///%s" % (
        base / "acaas.sqlite"
    )
    screen.write(
        "acaas-demo: %d compute nodes, each with its own swtpm; nova's own "
        "in-process cloud;\nacaas-nova's database: %s"
        % (
            len(names),
            "a temporary SQLite file"
            if args.database_connection is None
            else db_url.rpartition("@")[2],
        )
    )
    tpms = world.TPMs(base / "tpms", names)
    cleanups = [tpms.stop]
    try:
        tpms.manufacture()
        screen.step("Starting nova's in-process cloud")
        from acaas_nova.demo import cloud as cloud_mod

        _quiet_logs(args.debug)
        cloud = cloud_mod.DemoCloud(db_url, names)
        cleanups.append(cloud.stop)
        cloud.start()
        screen.note(
            "nova API, conductor, scheduler (ACaaSFilter, ACaaSWeigher), "
            "placement, %d fake-driver computes" % len(names)
        )
        return _story(args, screen, base, result, cloud, tpms, cleanups)
    finally:
        for cleanup in reversed(cleanups):
            try:
                cleanup()
            except Exception as exc:  # noqa: BLE001 -- keep cleaning up
                screen.write("acaas-demo: cleanup: %s" % exc)


def _story(args, screen, base, result, cloud, tpms, cleanups) -> int:
    from acaas_nova.demo import cloud as cloud_mod
    from acaas_nova.demo import compromise
    from acaas_nova.demo import daemons as daemons_mod
    from acaas_nova.demo import story as story_mod

    daemons = daemons_mod.Daemons(
        base, args.transport_url, cloud.db_url, tpms.ca.bundle_pem
    )
    cleanups.append(daemons.stop)
    story = story_mod.Story(
        screen,
        cloud,
        daemons,
        tpms,
        base,
        lambda: cloud_mod.compliance_loop(cloud, daemons, base, cleanups),
    )
    story.result = result
    result["nodes"] = len(tpms.tpms)
    story.infrastructure()
    story.boot_nodes()
    story.attest()
    story.boot_servers()
    story.explain()
    victim = compromise.tamper(story)
    compromise.fence_and_move(story, victim)
    if story.failures:
        screen.write()
        screen.write("acaas-demo: %d step(s) failed" % len(story.failures))
        return 1
    screen.write()
    screen.write("acaas-demo: every step behaved as described")
    return 0
