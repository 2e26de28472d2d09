"""Throw-away databases on the real servers, for functional tests.

``BACKENDS`` names the three databases acaas-nova supports.  Each call of
:func:`create` makes a new, empty database and returns its URL and a
``drop`` function; MariaDB and PostgreSQL must be running (see
tests/functional/realparts.py for how a missing server is handled).
"""

import os
import tempfile
import uuid

import sqlalchemy as sa

from tests.functional import realparts

MYSQL_SERVER = os.environ.get(
    "ACAAS_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306"
)
POSTGRES_SERVER = os.environ.get(
    "ACAAS_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432"
)

BACKENDS = ("sqlite", "mysql", "postgresql")


def _server(url, default_db):
    engine = sa.create_engine(
        url + "/" + default_db, isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        realparts.require(False, "%s (%s)" % (url, str(exc).splitlines()[0]))
    return engine


def create(backend):
    """A new empty database: returns (url, drop)."""
    name = "acaas_test_%s" % uuid.uuid4().hex[:12]
    if backend == "sqlite":
        tmp = tempfile.TemporaryDirectory(prefix="acaas-db-")
        url = "sqlite:///" + os.path.join(tmp.name, "acaas.sqlite")
        return url, tmp.cleanup
    if backend == "mysql":
        server_url, default_db = MYSQL_SERVER, "mysql"
        create_sql = "CREATE DATABASE %s CHARACTER SET utf8mb4" % name
        url = "%s/%s?charset=utf8mb4" % (server_url, name)
    elif backend == "postgresql":
        server_url, default_db = POSTGRES_SERVER, "postgres"
        create_sql = "CREATE DATABASE %s" % name
        url = "%s/%s" % (server_url, name)
    else:
        raise ValueError("unknown backend %s" % backend)
    server = _server(server_url, default_db)
    with server.connect() as conn:
        conn.execute(sa.text(create_sql))

    def drop():
        with server.connect() as conn:
            if backend == "postgresql":
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM "
                        "pg_stat_activity WHERE datname = :n"
                    ),
                    {"n": name},
                )
            conn.execute(sa.text("DROP DATABASE IF EXISTS %s" % name))
        server.dispose()

    return url, drop
