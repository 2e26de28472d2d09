"""acaas-manage: the administrator's command line of acaas-nova.

Usage::

    acaas-manage [--config-file FILE] [--config-dir DIR] [--format table|json]
                 [--debug] CATEGORY ACTION [ARGUMENTS]

Categories are wired explicitly in :data:`COMMANDS`, one class per
category; :func:`setup_commands` builds the parser without touching a
database so tests can check the command line alone.

Exit codes:

* 0 -- success.
* 1 -- failure: the database is unreachable or failed, the configuration is
  unusable, or an unexpected error occurred.
* 2 -- bad usage or input: unknown or missing arguments, malformed
  ``key=value``, a name that is not found, a duplicate, a conflicting change
  (e.g. deleting a domain that still has hosts), an invalid file.

Every error is one line on stderr (``acaas-manage: error: ...``); with
``--debug`` the traceback is logged as well.  Each command runs in one
database transaction, so a refused command writes nothing.
"""

import argparse
import contextlib
import glob
import logging
import os
import stat
import sys

from oslo_config import cfg
from oslo_db import exception as db_exc
from sqlalchemy.engine import url as sa_url

from acaas_nova import conf as acaas_conf
from acaas_nova import context as acaas_context
from acaas_nova import exception
from acaas_nova.cmd import attest as attest_cmd
from acaas_nova.cmd import base
from acaas_nova.cmd import compliance as compliance_cmd
from acaas_nova.cmd import db as db_cmd
from acaas_nova.cmd import domain as domain_cmd
from acaas_nova.cmd import event as event_cmd
from acaas_nova.cmd import host as host_cmd
from acaas_nova.cmd import location as location_cmd
from acaas_nova.cmd import output
from acaas_nova.cmd import prop as prop_cmd
from acaas_nova.cmd import requirement as requirement_cmd
from acaas_nova.cmd import schedule as schedule_cmd
from acaas_nova.cmd import whitelist as whitelist_cmd
from acaas_nova.conf import database as database_conf
from acaas_nova.db import api as db_api
from acaas_nova.db import migration

LOG = logging.getLogger(__name__)
PROG = "acaas-manage"
DEFAULT_CONFIG_FILE = "/etc/acaas/acaas.conf"
#: Largest configuration file read (oslo.config reads a file whole).
MAX_CONFIG_FILE = 1 << 20

#: Category name -> the classes wiring its actions.  A later feature adds
#: a category with one line here, or an action to an existing category by
#: appending its class to the tuple (e.g. ``host attest``).
COMMANDS: dict[str, tuple[type[base.Commands], ...]] = {
    "db": (db_cmd.DbCommands,),
    "location": (location_cmd.LocationCommands,),
    "domain": (domain_cmd.DomainCommands,),
    "property": (prop_cmd.PropertyCommands,),
    "requirement": (requirement_cmd.RequirementCommands,),
    "whitelist": (whitelist_cmd.WhitelistCommands,),
    "host": (host_cmd.HostCommands, attest_cmd.HostAttestCommands),
    "schedule": (schedule_cmd.ScheduleCommands,),
    "compliance": (compliance_cmd.ComplianceCommands,),
    "event": (event_cmd.EventCommands,),
}

EPILOG = """\
exit codes:
  0  success
  1  failure (database unreachable, failing or not migrated; unusable
     configuration)
  2  bad usage or input (unknown arguments, malformed key=value, not found,
     duplicate, conflicting change, invalid file)
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line on stderr (exit code 2)."""

    def error(self, message):
        self.exit(2, "%s: error: %s\n" % (self.prog, message))


def setup_commands() -> argparse.ArgumentParser:
    """The complete parser of acaas-manage; parsing runs nothing."""
    parser = _Parser(
        prog=PROG,
        description="Administer acaas-nova's locations, domains, hosts, "
        "requirements and white-lists.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config-file",
        action="append",
        metavar="FILE",
        help="configuration file (repeatable; default %s if it exists)"
        % DEFAULT_CONFIG_FILE,
    )
    parser.add_argument(
        "--config-dir", metavar="DIR", help="directory of *.conf files"
    )
    parser.add_argument(
        "--format",
        choices=output.FORMATS,
        default="table",
        help="output format: tables for people (default) or JSON",
    )
    parser.add_argument(
        "--debug", action="store_true", help="log debug detail to stderr"
    )
    categories = parser.add_subparsers(
        dest="category", metavar="CATEGORY", required=True
    )
    for name, classes in COMMANDS.items():
        category = categories.add_parser(
            name, help=classes[0].help, description=classes[0].help
        )
        actions = category.add_subparsers(
            dest="action", metavar="ACTION", required=True
        )
        for cls in classes:
            cls.add_actions(actions)
    # The chapter's names for the property actions, as top-level commands.
    prop_cmd.PropertyCommands.add_aliases(categories)
    return parser


def load_config(files, directory) -> cfg.ConfigOpts:
    """A new ConfigOpts with our options, read from the given files."""
    if files is None:
        files = (
            [DEFAULT_CONFIG_FILE]
            if os.path.exists(DEFAULT_CONFIG_FILE)
            else []
        )
    for path in list(files) + sorted(
        glob.glob(os.path.join(directory, "*.conf")) if directory else []
    ):
        _check_config_file(path)
    conf = cfg.ConfigOpts()
    acaas_conf.register_opts(conf)
    # An operator at a terminal wants an unreachable database reported
    # at once, not after oslo.db's ten retries of ten seconds.
    conf.set_default("max_retries", 1, group="acaas_database")
    conf.set_default("retry_interval", 0, group="acaas_database")
    try:
        conf(
            args=[],
            project="acaas",
            prog=PROG,
            default_config_files=files,
            default_config_dirs=[directory] if directory else [],
        )
    except cfg.Error as exc:
        raise exception.ConfigError(reason=_one_line(exc)) from exc
    return conf


def _check_config_file(path: str) -> None:
    """Refuse a device, FIFO or huge file before oslo.config reads it
    whole (``--config-file /dev/zero`` would never end)."""
    try:
        info = os.stat(path)
    except OSError:
        return  # oslo.config reports a missing file itself
    if not stat.S_ISREG(info.st_mode):
        raise exception.ConfigError(
            reason="configuration file %s is not a regular file" % path
        )
    if info.st_size > MAX_CONFIG_FILE:
        raise exception.ConfigError(
            reason="configuration file %s is larger than %d bytes"
            % (path, MAX_CONFIG_FILE)
        )


def _connect(conf, needs: str) -> None:
    try:
        db_api.configure(conf)
    except OSError as exc:
        raise exception.ConfigError(
            reason="cannot create the embedded database in %s: %s"
            % (conf.acaas_database.state_path, exc.strerror or exc)
        ) from exc
    if needs == base.NEEDS_SCHEMA:
        current, expected = migration.version(), migration.head()
        if current != expected:
            raise exception.DBNotMigrated(
                current=current or "empty", expected=expected
            )


def _run(args) -> int:
    base.check_arguments(args)
    conf = load_config(args.config_file, args.config_dir)
    try:
        if args.needs != base.NEEDS_NOTHING:
            _connect(conf, args.needs)
        commands = args.command_class(
            acaas_context.get_admin_context(),
            output.Output(args.format, sys.stdout),
            conf,
        )
        return getattr(commands, args.command)(args) or 0
    except db_exc.DBConnectionError as exc:
        # Raised outside the DB API's translation (engine start, Alembic).
        url = sa_url.make_url(database_conf.connection_url(conf))
        raise exception.DBError(
            reason="cannot connect to the ACaaS database at %s"
            % url.render_as_string(hide_password=True)
        ) from exc


def main(argv=None) -> int:
    """Run acaas-manage with ``argv`` (default sys.argv[1:])."""
    try:
        args = setup_commands().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else 0
    with _logging(args.debug):
        try:
            return _run(args)
        except exception.ACaaSException as exc:
            LOG.debug("%s failed", args.category, exc_info=True)
            return _fail(str(exc), exc.exit_code)
        except Exception as exc:  # noqa: BLE001 -- never a traceback
            LOG.debug("unexpected error", exc_info=True)
            return _fail(
                "unexpected %s: %s" % (type(exc).__name__, _one_line(exc)), 1
            )


def _fail(message: str, code: int) -> int:
    sys.stderr.write("%s: error: %s\n" % (PROG, _one_line(message)))
    return code


def _one_line(text) -> str:
    lines = [line.strip() for line in str(text).splitlines()]
    return " ".join(line for line in lines if line) or "unknown error"


@contextlib.contextmanager
def _logging(debug: bool):
    """Route logs (and warnings) to stderr at debug, else silence them.

    Without a root handler Python prints warnings and errors, tracebacks
    included, on its own; libraries must not break the one-line rule.
    """
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.DEBUG if debug else logging.CRITICAL + 1)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    old_level = root.level
    root.addHandler(handler)
    if debug:
        root.setLevel(logging.DEBUG)
    logging.captureWarnings(True)
    try:
        yield
    finally:
        logging.captureWarnings(False)
        root.removeHandler(handler)
        root.setLevel(old_level)


if __name__ == "__main__":
    sys.exit(main())
