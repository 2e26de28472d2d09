"""Options of the ``[acaas_database]`` group: our own database.

The group carries oslo.db's standard database options (``connection``, pool
sizes, retries ...) under our name, so acaas-nova's tables can live on the
same server as nova's without sharing its schema.
"""

import os

from oslo_config import cfg
from oslo_db import options as oslo_db_options

from acaas_nova.conf import group

GROUP = cfg.OptGroup(
    "acaas_database",
    title="ACaaS database options",
    help="Where acaas-nova keeps its tables. With no connection set, a "
    "SQLite file in state_path is used (the embedded default); production "
    "deployments use mysql+pymysql:// or postgresql+psycopg2:// URLs.",
)

DEFAULT_STATE_PATH = "/var/lib/acaas"

OPTS = [
    cfg.StrOpt(
        "state_path",
        default=DEFAULT_STATE_PATH,
        help="Directory for the embedded SQLite database (acaas.sqlite) "
        "used when connection is not set. It is created if missing.",
    ),
]


def register_opts(conf):
    group.register(conf, GROUP, OPTS + oslo_db_options.database_opts)


def list_opts():
    return {GROUP: OPTS + oslo_db_options.database_opts}


def connection_url(conf) -> str:
    """The configured connection, or the embedded SQLite file's URL."""
    if conf.acaas_database.connection:
        return conf.acaas_database.connection
    path = os.path.abspath(conf.acaas_database.state_path)
    return "sqlite:///" + os.path.join(path, "acaas.sqlite")
