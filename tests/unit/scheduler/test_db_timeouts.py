"""The scheduler's engine options bound every wait for the database."""

import urllib.parse

from oslo_config import cfg

from acaas_nova import conf as acaas_conf
from acaas_nova.scheduler import db_timeouts


def conf(**acaas_database):
    c = cfg.ConfigOpts()
    acaas_conf.register_opts(c)
    c([], project="acaas", default_config_files=[])
    c.set_override("db_timeout", 3, group="acaas")
    for key, value in acaas_database.items():
        c.set_override(key, value, group="acaas_database")
    return c


def params(overrides):
    return dict(
        urllib.parse.parse_qsl(overrides.get("connection_parameters", ""))
    )


def test_mysql_gets_connect_read_and_write_timeouts_and_no_retries():
    got = db_timeouts.engine_overrides(conf(), "mysql+pymysql://h/acaas")
    assert got["max_retries"] == 0
    assert got["pool_timeout"] == 3
    assert params(got) == {
        "connect_timeout": "3",
        "read_timeout": "3",
        "write_timeout": "3",
    }


def test_postgresql_gets_connect_and_statement_timeouts():
    got = db_timeouts.engine_overrides(conf(), "postgresql+psycopg2://h/a")
    assert params(got) == {
        "connect_timeout": "3",
        "options": "-c statement_timeout=3000",
    }


def test_sqlite_gets_a_busy_timeout_and_no_pool_option():
    got = db_timeouts.engine_overrides(conf(), "sqlite:///x.sqlite")
    assert params(got) == {"timeout": "3"}
    assert "pool_timeout" not in got


def test_operator_parameters_are_kept():
    c = conf(connection_parameters="charset=utf8mb4")
    got = db_timeouts.engine_overrides(c, "mysql+pymysql://h/acaas")
    assert params(got)["charset"] == "utf8mb4"
    assert params(got)["read_timeout"] == "3"
