"""The [nova] and [placement] client groups of DC-S."""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

from acaas_nova import conf as acaas_conf
from acaas_nova.conf import nova_client
from acaas_nova.conf import opts
from acaas_nova.conf import placement_client


def _conf(*args):
    conf = cfg.ConfigOpts()
    acaas_conf.register_opts(conf)
    acaas_conf.register_client_opts(conf)
    acaas_conf.register_client_opts(conf)  # idempotent
    conf(list(args), project="acaas", default_config_files=[])
    return conf


def test_defaults():
    conf = _conf()
    assert conf.nova.live_migration is True
    assert conf.nova.cold_migration_fallback is True
    assert conf.nova.service_type == "compute"
    assert conf.nova.valid_interfaces == ["internal", "public"]
    assert conf.placement.service_type == "placement"
    assert conf.placement.generation_retries == 5
    assert conf.placement.publish_traits is True


def test_keystoneauth_options_are_registered():
    conf = _conf()
    for name in ("auth_type", "auth_section", "cafile", "timeout"):
        assert name in conf.nova
        assert name in conf.placement
    # The versions are the code's business, not the operator's.
    assert "min_version" not in conf.nova


def test_session_and_auth_load_from_the_group(tmp_path):
    # The plugin's own options exist once auth_type has chosen it.
    path = tmp_path / "acaas.conf"
    path.write_text(
        "[placement]\nauth_type = admin_token\ntoken = secret\n"
        "endpoint = http://placement.test\n"
    )
    conf = _conf("--config-file", str(path))
    auth = ks_loading.load_auth_from_conf_options(conf, "placement")
    assert auth.get_endpoint(None) == "http://placement.test"
    session = ks_loading.load_session_from_conf_options(
        conf, "placement", auth=auth
    )
    assert session.auth is auth


def test_client_groups_stay_off_the_scheduler_registration():
    # nova-scheduler calls register_opts() on nova's CONF, which has a
    # [placement] group of its own.
    conf = cfg.ConfigOpts()
    acaas_conf.register_opts(conf)
    assert "nova" not in conf
    assert "placement" not in conf


def test_generator_lists_the_client_groups_with_keystoneauth_options():
    listed = {group.name: o for group, o in opts.list_opts()}
    for module in (nova_client, placement_client):
        names = {opt.dest for opt in listed[module.GROUP.name]}
        assert {"auth_url", "username", "password"} <= names
        assert {"service_type", "endpoint_override", "timeout"} <= names
        assert {opt.dest for opt in module.OPTS} <= names
