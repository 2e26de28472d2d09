"""Fixtures shared by functional tests."""

import pytest
from oslo_config import cfg

from acaas_nova import conf as acaas_conf
from acaas_nova import context as acaas_context
from acaas_nova.db import api as db_api
from acaas_nova.db import migration
from tests.functional import databases


@pytest.fixture(params=databases.BACKENDS)
def db_url(request):
    """An empty database on each backend in turn (SQLite, MariaDB, PG)."""
    url, drop = databases.create(request.param)
    yield url
    db_api.dispose()
    drop()


@pytest.fixture
def sqlite_url():
    url, drop = databases.create("sqlite")
    yield url
    db_api.dispose()
    drop()


def make_conf(url):
    conf = cfg.ConfigOpts()
    acaas_conf.register_opts(conf)
    conf([], project="acaas", default_config_files=[])
    conf.set_override("connection", url, group="acaas_database")
    return conf


@pytest.fixture
def migrated(db_url):
    """(conf, context) bound to a migrated database on every backend."""
    conf = make_conf(db_url)
    db_api.configure(conf)
    migration.upgrade()
    return conf, acaas_context.get_admin_context()
