"""Configuration: registration, listing and the generator entry point."""

import importlib.metadata

from oslo_config import cfg

from acaas_nova import conf as acaas_conf
from acaas_nova.conf import database
from acaas_nova.conf import ksa
from acaas_nova.conf import opts


def _conf():
    conf = cfg.ConfigOpts()
    acaas_conf.register_opts(conf)
    conf([], project="acaas", default_config_files=[])
    return conf


def test_register_opts_is_idempotent():
    conf = cfg.ConfigOpts()
    acaas_conf.register_opts(conf)
    acaas_conf.register_opts(conf)
    conf([], project="acaas", default_config_files=[])
    assert conf.acaas.require_attestation is True


def test_nothing_registered_at_import():
    # Importing our conf package must not touch oslo.config's global CONF.
    assert "acaas" not in cfg.CONF
    assert "acaas_database" not in cfg.CONF


def test_list_opts_covers_every_registered_group():
    conf = _conf()
    listed = {group.name: opt_list for group, opt_list in opts.list_opts()}
    for name in ("acaas", "acaas_database"):
        assert name in listed
        registered = {opt.dest for opt in listed[name]}
        assert registered <= set(conf[name].keys())


def test_every_option_has_help():
    # keystoneauth's own options (auth, session, adapter) carry its help.
    theirs = {opt.dest for opt in ksa.list_opts("compute")}
    for _group, opt_list in opts.list_opts():
        for opt in opt_list:
            if opt.dest in theirs:
                continue
            assert opt.help and len(opt.help) > 10, opt.name


def test_entry_point_is_declared():
    eps = importlib.metadata.entry_points(group="oslo.config.opts")
    targets = {ep.name: ep.value for ep in eps}
    assert targets.get("acaas_nova") == "acaas_nova.conf.opts:list_opts"


def test_embedded_default_is_sqlite_in_state_path(tmp_path):
    conf = _conf()
    conf.set_override("state_path", str(tmp_path), group="acaas_database")
    url = database.connection_url(conf)
    assert url == "sqlite:///%s/acaas.sqlite" % tmp_path


def test_configured_connection_wins():
    conf = _conf()
    conf.set_override(
        "connection", "mysql+pymysql://u@h/acaas", group="acaas_database"
    )
    assert database.connection_url(conf) == "mysql+pymysql://u@h/acaas"


def test_overrides_do_not_leak_between_config_objects():
    first = _conf()
    first.set_override("attestation_ttl", 7, group="acaas")
    first.set_override("connection", "sqlite://", group="acaas_database")
    second = _conf()
    assert second.acaas.attestation_ttl == 300
    assert second.acaas_database.connection is None
