"""PlacementTraits refuses what it must before any request is made."""

import pytest

from dc_agents.compliance import errors
from dc_agents.compliance import traits


class _NoHTTP:
    def request(self, *args, **kwargs):
        raise AssertionError("no request expected")


def test_sync_refuses_traits_we_do_not_own():
    client = traits.PlacementTraits(_NoHTTP())
    with pytest.raises(errors.ClientError) as ctx:
        client.sync("rp", {"CUSTOM_ACAAS_TRUSTED", "CUSTOM_GPU"})
    assert "CUSTOM_GPU" in str(ctx.value)


def test_ensure_refuses_invalid_names():
    client = traits.PlacementTraits(_NoHTTP())
    with pytest.raises(errors.ClientError):
        client.ensure_traits({"CUSTOM_acaas_lower"})


def test_conflict_error_is_one_line():
    err = errors.GenerationConflict(rp="abc", attempts=5)
    assert str(err) == (
        "Traits of resource provider abc not written: its generation "
        "changed 5 times in a row"
    )


def test_from_conf_builds_the_adapter_from_the_group(tmp_path):
    from oslo_config import cfg

    path = tmp_path / "acaas.conf"
    path.write_text(
        "[placement]\nauth_type = admin_token\ntoken = t\n"
        "endpoint = http://placement.test\n"
        "endpoint_override = http://placement.test\n"
        "generation_retries = 3\nregion_name = r1\n"
    )
    conf = cfg.ConfigOpts()
    conf(
        ["--config-file", str(path)], project="acaas", default_config_files=[]
    )
    client = traits.PlacementTraits.from_conf(conf)
    adapter = client._adapter
    assert adapter.service_type == "placement"
    assert adapter.endpoint_override == "http://placement.test"
    assert adapter.region_name == "r1"
    assert client._retries == 3
